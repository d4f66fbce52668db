/**
 * A call's cancellation: the RPC server makes one per call and fires it when
 * the call's client sends `cancel` or leaves; whoever runs the call hooks it
 * (an inline call's AbortController, an instance's message, the TCP front's
 * forwarded call). A plain object, not an AbortController: node builds one of
 * those in microseconds, which a call that is never cancelled should not pay.
 */
export class Cancel {
  private hooks: (() => void)[] | null = null;
  private fired = false;

  get cancelled(): boolean {
    return this.fired;
  }

  /** Runs `hook` when the call is cancelled (at once if it already was). */
  onCancel(hook: () => void): void {
    if (this.fired) return hook();
    (this.hooks ??= []).push(hook);
  }

  fire(): void {
    if (this.fired) return;
    this.fired = true;
    const hooks = this.hooks;
    this.hooks = null;
    for (const hook of hooks ?? []) hook();
  }
}
