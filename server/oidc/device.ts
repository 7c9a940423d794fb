import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { sendHtml } from '../http/pages.js';
import type { Logger } from '../logger.js';
import { type Protection, TooManyAttemptsError } from '../services/protection/index.js';
import { limitAddress } from '../services/protection/address.js';
import { deviceCodePage, deviceConfirmPage, deviceDonePage } from '../../views/device.js';
import { errorPage } from '../../views/error.js';

/**
 * The device authorization grant (RFC 8628) as oidc-provider runs it, with our pages. A device asks
 * /oauth/device/auth for a device code and a user code; the person opens /device (signed in or
 * not), types the user code, confirms, signs in and consents through the usual interaction pages,
 * and the device, polling /oauth/token, gets the tokens. The library enforces the polling interval
 * with slow_down (§3.5).
 *
 * User codes are 8 characters of the base-20 alphabet BCDFGHJKLMNPQRSTVWXZ (no vowels, so no words,
 * and none of 0/O or 1/I to confuse), shown XXXX-XXXX (§6.1); typing is forgiving (case, dashes,
 * spaces). Wrong codes are counted per address (§5.1, services/protection): see deviceCodeGuard.
 */

const xsrfOf = (ctx: KoaContextWithOIDC) => String((ctx.oidc.session?.state as { secret?: string } | undefined)?.secret ?? '');
const action = (ctx: KoaContextWithOIDC) => ctx.oidc.urlFor('code_verification');
const clientName = (ctx: KoaContextWithOIDC) => ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? 'the application';

/** What a person is told for each way entering a code can go wrong (oidc-provider's re-render errors). */
const CODE_ERRORS: Record<string, string> = {
  NoCodeError: 'Enter the code shown on your device.',
  NotFoundError: 'That code is not right. Check it on your device and try again.',
  ExpiredError: 'That code has expired. Start again on your device to get a new one.',
  AlreadyUsedError: 'That code was already used. Start again on your device to get a new one.',
  AbortedError: 'Cancelled: the device was not connected. You can close this page.',
};

export function deviceFlowFeature(protection: Protection, logger: Logger) {
  return {
    enabled: true,
    charset: 'base-20' as const,
    mask: '****-****',
    async userCodeInputSource(ctx: KoaContextWithOIDC, _form: string, _out: unknown, err?: Error & { userCode?: string }) {
      if (err?.name === 'NotFoundError') {
        // A wrong code is a guess until proven otherwise; expired or used codes are not counted.
        await protection.userCodes.fail(limitAddress(ctx.ip)).catch((e) => logger.warn({ err: e.message }, 'could not count a wrong user code'));
      }
      const error = err ? (CODE_ERRORS[err.name] ?? 'The code could not be checked. Start again on your device.') : undefined;
      sendHtml(ctx, deviceCodePage({ action: action(ctx), xsrf: xsrfOf(ctx), userCode: err?.userCode, error }));
    },
    async userCodeConfirmSource(ctx: KoaContextWithOIDC, _form: string, client: { clientName?: string; clientId: string }, _info: unknown, userCode: string) {
      sendHtml(ctx, deviceConfirmPage({ action: action(ctx), xsrf: xsrfOf(ctx), userCode, clientName: client.clientName ?? client.clientId }));
    },
    async successSource(ctx: KoaContextWithOIDC) {
      sendHtml(ctx, deviceDonePage(clientName(ctx)));
    },
  };
}

/**
 * RFC 8628 §5.1: an address that typed too many wrong codes is refused before its next code is
 * looked up, on a page that says until when.
 */
export function deviceCodeGuard(protection: Protection): Middleware {
  return async function deviceCodeGuard(ctx, next) {
    if (ctx.method !== 'POST') return next();
    const wait = await protection.userCodes.retryAfter(limitAddress(ctx.ip));
    if (!wait) return next();
    const err = new TooManyAttemptsError(wait, 'wrong codes');
    ctx.set('Retry-After', String(wait));
    const minutes = Math.ceil(wait / 60);
    sendHtml(ctx, errorPage({
      title: 'Too many wrong codes',
      message: `For your security, entering codes from here is paused: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      code: err.error,
    }), 429);
  };
}


const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * RFC 8628 §3.5: a device that polls again before its interval has passed is told slow_down instead
 * of authorization_pending. oidc-provider answers the poll; this only decides, after it, whether the
 * poll came too early, so an approved or denied code is answered at once whatever the pace.
 */
export function devicePollPace(protection: Protection): Middleware {
  return async function devicePollPace(ctx, next) {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc;
    if (oidc?.params?.grant_type !== DEVICE_CODE_GRANT) return;
    const body = ctx.body as { error?: string } | undefined;
    const code = oidc.params.device_code;
    if (body?.error !== 'authorization_pending' || typeof code !== 'string') return;
    if (await protection.devicePolls.tooSoon(code)) {
      ctx.status = 400;
      ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly: wait at least the interval between two requests (RFC 8628 §3.5)' };
    }
  };
}
