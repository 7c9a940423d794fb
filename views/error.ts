import { html } from './html.js';
import { layout } from './layout.js';

export interface ErrorView {
  title: string;
  message: string;
  code?: string;
}

export function errorPage(v: ErrorView): string {
  return layout(
    v.title,
    html`<h1>${v.title}</h1>
<p class="lead">${v.message}</p>
${v.code ? html`<p class="note">Error code: <code>${v.code}</code></p>` : ''}`,
  );
}

/** Plain words for the errors a person can meet in the browser flow. */
const MESSAGES: Record<string, ErrorView> = {
  invalid_redirect_uri: {
    title: 'This application is misconfigured',
    message: 'It asked to send you to an address it has not registered, so we stopped here. Contact the application’s owner.',
  },
  invalid_client: {
    title: 'Unknown application',
    message: 'The application that sent you here is not registered. Contact the application’s owner.',
  },
  invalid_request: {
    title: 'Something is wrong with this request',
    message: 'The application sent an incomplete or malformed request. Go back and try again.',
  },
  session_not_found: {
    title: 'This sign-in has expired',
    message: 'The sign-in page was open too long or was already used. Go back to the application and start again.',
  },
  form_expired: {
    title: 'This form has expired',
    message: 'The page was changed or left open too long, so we could not accept it. Go back, reload the page and try again.',
  },
  temporarily_unavailable: {
    title: 'Temporarily unavailable',
    message: 'We cannot complete your sign-in right now. Please try again in a moment.',
  },
};

export function errorViewFor(out: { error: string; error_description?: string }): ErrorView {
  const known = MESSAGES[out.error];
  if (known) return { ...known, code: out.error };
  return {
    title: 'Something went wrong',
    message: out.error === 'server_error' ? 'An unexpected error occurred. Please try again.' : (out.error_description ?? 'The request could not be completed.'),
    code: out.error,
  };
}
