import { useRef, useState } from 'preact/hooks';

/** Copies text: the Clipboard API, or selecting the field and the older copy command where it is refused. */
async function copyText(text: string, field: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!field) return false;
    field.select();
    return document.execCommand('copy');
  }
}

/** A read-only value (client id, secret, key) with a copy button that says when it has copied. */
export function CopyField({ id, label, value, secret = false }: { id: string; label: string; value: string; secret?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    setState((await copyText(value, input.current)) ? 'copied' : 'failed');
    setTimeout(() => setState('idle'), 2500);
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="copy-field">
        <input id={id} ref={input} class={`mono ${secret ? 'secret-value' : ''}`} type="text" readOnly value={value} spellcheck={false} autocomplete="off" onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        <button type="button" class="btn btn-secondary" onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
          {state === 'copied' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p class="sr-only" role="status">
        {state === 'copied' ? `${label} copied to the clipboard` : state === 'failed' ? `Could not copy; select the ${label.toLowerCase()} and copy it yourself` : ''}
      </p>
    </div>
  );
}

/** Saves text as a file the browser downloads; nothing leaves the page. */
export function downloadFile(name: string, content: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
