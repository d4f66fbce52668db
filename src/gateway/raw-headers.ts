/**
 * A request header read from node's rawHeaders ([name, value, name, value, …]
 * as received), valued as `req.headers[name]` would be: the first value for
 * a header whose repeats node discards (`first`: Host, Content-Length), else
 * every value joined with ", ". The gateway reads a few headers of every
 * request before any framework does; node builds its whole `req.headers`
 * object on the first read, 0.5 µs of the node gateway's request in its
 * profile, and the plain node:http server it is held to builds none.
 * `name` is lower case.
 */
export function rawHeader(raw: readonly string[], name: string, first = false): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length !== name.length || (key !== name && key.toLowerCase() !== name)) continue;
    const v = raw[i + 1]!;
    if (first) return v;
    value = value === undefined ? v : `${value}, ${v}`;
  }
  return value;
}
