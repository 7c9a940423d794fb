import { formatDate, formatDateTime, relative } from '../format.js';
import type { ApiKeyUsage } from '../types.js';
import './api-key-usage.css';

const dayLabel = (day: string) => formatDate(`${day}T12:00:00Z`);
const requests = (n: number) => (n === 1 ? '1 request' : `${n.toLocaleString()} requests`);

/**
 * A key's use over the last 30 days: one bar per UTC day (its height relative to the busiest day),
 * each labelled for screen readers and on hover, and the addresses it was used from. Counts are
 * written every few seconds by each server (server/services/api-key-usage.ts), so the newest
 * requests may take a moment to appear.
 */
export function KeyUsage({ usage }: { usage: ApiKeyUsage }) {
  const busiest = Math.max(1, ...usage.days.map((d) => d.count));
  return (
    <>
      <section class="section" aria-labelledby="usage-title">
        <div class="section-head">
          <div>
            <h2 id="usage-title">Requests, last 30 days</h2>
            <p>
              {requests(usage.total)} in total. Days are UTC; the newest requests can take a few seconds to be counted.
            </p>
          </div>
        </div>
        <ol class="usage-bars" aria-label="Requests per day">
          {usage.days.map((d) => (
            <li key={d.day} title={`${dayLabel(d.day)}: ${requests(d.count)}`} aria-label={`${dayLabel(d.day)}: ${requests(d.count)}`}>
              <span class="usage-bar" style={{ height: `${Math.round((d.count / busiest) * 100)}%` }} />
            </li>
          ))}
        </ol>
        <div class="usage-axis" aria-hidden="true">
          <span>{dayLabel(usage.days[0]!.day)}</span>
          <span>Today</span>
        </div>
      </section>
      <section class="section" aria-labelledby="addresses-title">
        <div class="section-head">
          <h2 id="addresses-title">Last used from</h2>
        </div>
        {usage.addresses.length === 0 ? (
          <p class="muted">The key has not been used yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="addresses-title">
              <thead>
                <tr>
                  <th scope="col">Address</th>
                  <th scope="col">Last request</th>
                </tr>
              </thead>
              <tbody>
                {usage.addresses.map((a) => (
                  <tr key={a.ip}>
                    <td data-label="Address">
                      <code class="mono-id">{a.ip}</code>
                    </td>
                    <td data-label="Last request" title={formatDateTime(a.last_seen_at)}>
                      {relative(a.last_seen_at)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
