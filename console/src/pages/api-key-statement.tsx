import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Button, ErrorNotice, Field } from '../components/ui.js';
import { useAction, useLoad } from '../hooks.js';
import type { KeyRevealStatement } from '../types.js';

/** The server's limit (services/key-reveal-statement.ts STATEMENT_MAX). */
const STATEMENT_MAX = 1000;

/**
 * For administrators (users:write): the statement everyone must agree to before a new API key is
 * shown to them (KeyShownOnce), such as where keys may be kept. Empty: no statement.
 */
export function KeyRevealSettings({ onSaved }: { onSaved(message: string): void }) {
  const loaded = useLoad(() => api.get<KeyRevealStatement>('/settings/key-reveal-statement'), []);
  const [text, setText] = useState('');
  useEffect(() => setText(loaded.data?.statement ?? ''), [loaded.data]);
  const save = useAction(async () => {
    const saved = await api.patch<KeyRevealStatement>('/settings/key-reveal-statement', { statement: text.trim() || null });
    setText(saved.statement ?? '');
    onSaved(saved.statement ? 'The statement was saved. New keys are shown only after agreeing to it.' : 'The statement was removed.');
  });
  const unchanged = text.trim() === (loaded.data?.statement ?? '');
  return (
    <details class="section key-statement-settings">
      <summary>Statement to agree to before a key is revealed</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save.run();
        }}
        noValidate
      >
        <Field
          id="key-statement"
          label="Statement"
          hint="Shown with every new or rolled API key; the key appears only after the person ticks that they agree. Leave empty for none."
          error={save.error?.field === 'statement' ? save.error.message : undefined}
        >
          <textarea id="key-statement" maxLength={STATEMENT_MAX} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
        </Field>
        <Button variant="primary" type="submit" busy={save.busy} busyLabel="Saving…" disabled={unchanged || loaded.loading}>
          Save statement
        </Button>
        <ErrorNotice error={loaded.error ?? (save.error?.field === 'statement' ? undefined : save.error)} title="The statement could not be saved." />
      </form>
    </details>
  );
}
