import { CopyButton } from './copy-button.js';

/**
 * An id in a table: monospace, whole on one line (styles.css `code.id`), and, where a person would
 * paste it somewhere (a client ID into a config, a kid into a verifier), a Copy button beside it.
 */
export function IdCell({ id, copyLabel }: { id: string; copyLabel?: string }) {
  return (
    <span class="id-cell">
      <code class="id">{id}</code>
      {copyLabel && <CopyButton text={id} label={copyLabel} />}
    </span>
  );
}
