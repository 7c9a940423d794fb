// Passkey ceremonies for the forms views/passkey-form.ts renders (data-passkey="sign-in" or
// "register"). Served from this origin next to SimpleWebAuthn's browser bundle (/assets/webauthn.js,
// the global SimpleWebAuthnBrowser); no inline script, nothing from elsewhere.
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;

  function post(url, fields) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(fields),
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) throw new Error(body.error_description || 'The passkey was not accepted. Try again.');
        return body;
      });
    });
  }

  document.querySelectorAll('form[data-passkey]').forEach(function (form) {
    form.hidden = false;
    var error = form.querySelector('[data-passkey-error]');
    var button = form.querySelector('button[type=submit]');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      var fields = Object.fromEntries(new FormData(form));
      var register = form.dataset.passkey === 'register';
      post(form.dataset.options, { csrf: fields.csrf })
        .then(function (options) {
          return register ? lib.startRegistration({ optionsJSON: options }) : lib.startAuthentication({ optionsJSON: options });
        })
        .then(function (answer) {
          fields.response = JSON.stringify(answer);
          return post(form.action, fields);
        })
        .then(function (done) {
          window.location.assign(done.location);
        })
        .catch(function (err) {
          error.textContent = err && err.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out.' : err.message;
          error.hidden = false;
          button.disabled = false;
        });
    });
  });
})();
