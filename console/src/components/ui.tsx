import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import type { ApiError } from '../api.js';
import { useSession } from '../session.js';
import { usePageTitle } from '../page-title.js';

type ButtonProps = Omit<ButtonHTMLAttributes, 'type'> & {
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  busy?: boolean;
  /** What the button says while busy ("Creating…"). */
  busyLabel?: string;
  type?: 'button' | 'submit';
  disabled?: boolean;
};

/** A button that shows progress: disabled and relabelled while its action runs. */
export function Button({ variant = 'secondary', busy, busyLabel, children, type = 'button', disabled, class: cls, ...rest }: ButtonProps) {
  return (
    <button type={type} class={`btn btn-${variant} ${cls ?? ''}`} disabled={disabled || busy} aria-busy={busy ? 'true' : undefined} {...rest}>
      {busy && <span class="spinner" aria-hidden="true" />}
      {busy && busyLabel ? busyLabel : children}
    </button>
  );
}

/** A labelled form control with an optional hint and error, tied together for screen readers. */
export function Field({ id, label, hint, error, children }: { id: string; label: string; hint?: ComponentChildren; error?: string; children: ComponentChildren }) {
  return (
    <div class={`field ${error ? 'field-invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** An error from the API, said plainly; 403s name the missing permission (api.ts). */
export function ErrorNotice({ error, title }: { error: ApiError | undefined; title?: string }) {
  if (!error) return null;
  return (
    <div class="notice notice-error" role="alert">
      {title && <strong>{title} </strong>}
      {error.message}
    </div>
  );
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'success' | 'warning'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'success' ? 'status' : undefined}>
      {children}
    </div>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'success' | 'warning' | 'danger' | 'info'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  const tone = status === 'active' ? 'success' : status === 'expired' || status === 'deactivated' ? 'danger' : 'warning';
  return <Badge tone={tone}>{status.charAt(0).toUpperCase() + status.slice(1)}</Badge>;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: ComponentChildren; actions?: ComponentChildren }) {
  usePageTitle(title);
  return (
    <header class="page-header">
      <div>
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        {description && <p class="page-description">{description}</p>}
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </header>
  );
}

export function EmptyState({ title, children, action }: { title: string; children: ComponentChildren; action?: ComponentChildren }) {
  return (
    <div class="empty">
      <h2>{title}</h2>
      <div class="empty-body">{children}</div>
      {action && <div class="empty-action">{action}</div>}
    </div>
  );
}

/** Shown instead of a page the user's roles do not allow them to see. */
export function NeedsPermission({ permission, what }: { permission: string; what: string }) {
  return (
    <div class="notice notice-warning" role="alert">
      You need the <code>{permission}</code> permission to {what}. Ask an administrator for a role that includes it.
    </div>
  );
}

/**
 * A page the user's roles may not let them see: without `permission`, its title and which
 * permission is missing; with it, the page. The page itself then loads without checking again.
 */
export function RequirePermission({ permission, title, what, children }: { permission: string; title: string; what: string; children: ComponentChildren }) {
  const { can } = useSession();
  if (can(permission)) return <>{children}</>;
  return (
    <>
      <PageHeader title={title} />
      <NeedsPermission permission={permission} what={what} />
    </>
  );
}

/** "Load more" for cursor-paginated lists. */
export function MoreButton({ next, busy, onMore }: { next: string | null | undefined; busy: boolean; onMore(): void }) {
  if (!next) return null;
  return (
    <div class="more">
      <Button onClick={onMore} busy={busy} busyLabel="Loading…">
        Load more
      </Button>
    </div>
  );
}
