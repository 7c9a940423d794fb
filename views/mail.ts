/** The plain-text messages Gatehouse sends. Each holds one link and says what to do if unasked. */

const minutes = (seconds: number) => `${Math.round(seconds / 60)} minutes`;
const hours = (seconds: number) => `${Math.round(seconds / 3600)} hours`;

export function resetMail(v: { name: string; url: string; ttlSeconds: number }) {
  return {
    subject: 'Reset your Gatehouse password',
    text: `Hello ${v.name},

Someone, probably you, asked to reset the password of your Gatehouse account.
To choose a new password, open this link within ${minutes(v.ttlSeconds)}:

${v.url}

The link works once. Choosing a new password signs you out everywhere.
If you did not ask for this, ignore this message: your password stays as it is.
`,
  };
}

export function verificationMail(v: { name: string; url: string; ttlSeconds: number }) {
  return {
    subject: 'Confirm your email address for Gatehouse',
    text: `Hello ${v.name},

Please confirm that this is your email address by opening this link within ${hours(v.ttlSeconds)}:

${v.url}

The link works once. If you did not expect this message, ignore it.
`,
  };
}
