import { expect } from 'chai';
import type { TestServer } from '../support/server.js';
import { managementApi } from '../support/management.js';
import { auditOf, newKey, newPerson } from '../support/accounts.js';
import { useServer, type ManagementApi } from '../support/setup.js';

const PATH = '/settings/key-reveal-statement';

describe('management API: the statement to agree to before a key is revealed', () => {
  let server: TestServer;
  let admin: ManagementApi;

  useServer({ admin: true }, (s) => ({ server, admin } = s));

  it('is null until set; anyone with a credential reads it; only users:write sets or clears it', async () => {
    const viewer = await newPerson(admin, ['viewer']);
    const developer = await newPerson(admin, ['developer']);
    const asViewer = managementApi(server, (await newKey(admin, viewer.id, ['clients:read'])).key);
    const asDeveloper = managementApi(server, (await newKey(admin, developer.id, ['api-keys:read', 'api-keys:write'])).key);

    expect((await asViewer.get(PATH)).body).to.deep.equal({ statement: null });
    expect((await managementApi(server, undefined).get(PATH)).status).to.equal(401);
    const refused = await asDeveloper.patch(PATH, { statement: 'Anything goes' });
    expect(refused.status).to.equal(403);
    expect(refused.body.scope).to.equal('users:write');
    expect((await asViewer.get(PATH)).body).to.deep.equal({ statement: null });

    const text = 'I will keep this key in the team vault and never commit it.';
    const saved = await admin.patch(PATH, { statement: `  ${text}  ` });
    expect(saved.status, JSON.stringify(saved.body)).to.equal(200);
    expect(saved.body).to.deep.equal({ statement: text });
    expect((await asViewer.get(PATH)).body).to.deep.equal({ statement: text });
    expect((await auditOf(server, 'settings.updated')).at(-1)!.data).to.deep.equal({ statement: text });

    expect((await admin.patch(PATH, { statement: null })).body).to.deep.equal({ statement: null });
    expect((await asDeveloper.get(PATH)).body).to.deep.equal({ statement: null });
  });

  it('refuses a statement that is empty, too long or not text, naming the field', async () => {
    for (const body of [{ statement: '' }, { statement: '   ' }, { statement: 'x'.repeat(1001) }, { statement: 42 }, {}, { statement: 'ok', extra: 1 }]) {
      const res = await admin.patch(PATH, body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).to.equal(400);
      expect(res.body.error).to.equal('invalid_request');
      if (!('extra' in body)) expect(res.body.field).to.equal('statement');
    }
    expect((await admin.patch(PATH, { statement: 'x'.repeat(1000) })).status).to.equal(200);
  });
});
