/**
 * Polls until `check` passes, for at most `ms`: it passes by returning anything but `false` without
 * throwing. On timeout the test fails with the check's last error (an assertion says what differed),
 * or with `what`. The one way tests wait for something that happens on its own (a reconnect, a
 * timer on another node, a page that refreshes); never a fixed sleep.
 */
export async function eventually(what: string, check: () => Promise<boolean | void> | boolean | void, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    let last: unknown;
    try {
      if ((await check()) !== false) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last ?? new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
