import { expect } from 'chai';
import { afterSessionCutoff } from '../../server/interactions/routes.js';

/**
 * A session signed in right after a cut-off (a password changed, a user reactivated) is recorded in
 * whole seconds, so afterSessionCutoff must not return before Date.now() has reached the second after
 * the cut-off: one millisecond early, and the new session counts as older than the cut-off.
 */
describe('waiting out a session cut-off', () => {
  it('returns only once Date.now() has passed the cut-off second, though timers may fire a millisecond early', async function () {
    // Node times a timer by the event loop's clock, in whole milliseconds, so it can end a
    // millisecond or so before Date.now() says the time has come. Each round makes a cut-off a few
    // milliseconds before a second ends and waits it out, with the event loop kept busy.
    this.timeout(30_000);
    for (let i = 0; i < 12; i++) {
      // Until 985-989 ms into a second.
      await new Promise((resolve) => setTimeout(resolve, (1985 + (i % 5) - (Date.now() % 1000)) % 1000));
      const cutoff = new Date();
      // The server is busy meanwhile: the event loop checks its timers on every turn rather than
      // sleeping until the next is due, so a timer ends as soon as the loop's clock allows.
      let busy = true;
      const spin = () => busy && setImmediate(spin);
      spin();
      await afterSessionCutoff(cutoff).finally(() => (busy = false));
      const signedInAt = Math.floor(Date.now() / 1000);
      expect(signedInAt * 1000, `round ${i}: cut-off at ${cutoff.toISOString()}`).to.be.at.least(cutoff.getTime());
    }
  });

  it('waits at most a second, whatever the cut-off says', async () => {
    const started = Date.now();
    await afterSessionCutoff(new Date(started + 60_000));
    expect(Date.now() - started).to.be.within(990, 1500);
  });
});
