/**
 * The scaler's end of Alertmanager's webhook receiver (its webhook_config
 * url): POST a JSON body {"status", "alerts": [{"status": "firing" |
 * "resolved", "labels": {...}}, ...]}, answered 200 once handled; anything
 * else is a 400 or 405 with a one-line reason.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookAlert {
  status: string;
  labels?: Record<string, string>;
}

export interface Webhook {
  url: string;
  /** Notifications received so far. */
  readonly received: number;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;

export async function startWebhook(host: string, port: number, onAlerts: (alerts: WebhookAlert[]) => void): Promise<Webhook> {
  let received = 0;
  const server: Server = createServer((req, res) => {
    const answer = (status: number, text: string) => res.writeHead(status, { 'content-type': 'text/plain' }).end(`${text}\n`);
    if (req.method !== 'POST') return answer(405, 'POST an Alertmanager webhook notification');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      let body: { alerts?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts?: unknown };
      } catch {
        return answer(400, 'the body is not JSON');
      }
      const alerts = body.alerts;
      if (!Array.isArray(alerts) || !alerts.every((a) => typeof a === 'object' && a !== null && typeof (a as WebhookAlert).status === 'string')) {
        return answer(400, 'the body has no "alerts" list of objects with a "status"');
      }
      received++;
      onAlerts(alerts as WebhookAlert[]);
      answer(200, 'ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/alert`,
    get received() {
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
