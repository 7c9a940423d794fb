import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { Button, ErrorNotice, Field, NeedsPermission, Notice } from '../components/ui.js';
import { ADMIN_ROLE, LAST_ADMIN } from '../last-admin.js';
import { compact, emailProblem, otherError, passwordProblem, serverProblems } from '../form-checks.js';
import { useAction } from '../hooks.js';
import { useSession } from '../session.js';
import type { Role, User } from '../types.js';

/** The server's password rule in words (NIST SP 800-63B §5.1.1.2: length, and no common passwords). */
const passwordRule = (min: number) => `At least ${min} characters, and not a common or breached password; a passphrase of several words is easy to remember.`;

// The dialogs of the Users page: add a user, edit their details, choose their roles.

/** Why a role cannot be given (a permission in it the signed-in person does not hold), or undefined. */
export type RoleLock = (role: Role) => string | undefined;

function RoleChoices({ roles, selected, onChange, idPrefix, lockOf }: { roles: Role[]; selected: Set<string>; onChange(s: Set<string>): void; idPrefix: string; lockOf: RoleLock }) {
  return (
    <fieldset>
      <legend>Roles</legend>
      {roles.map((r) => {
        const why = lockOf(r);
        return (
        <label class={why ? 'check scope-unavailable' : 'check'} key={r.name} for={`${idPrefix}-${r.name}`}>
          <input
            id={`${idPrefix}-${r.name}`}
            type="checkbox"
            checked={selected.has(r.name)}
            // Giving a role confers its permissions; taking one away is never held back.
            disabled={Boolean(why) && !selected.has(r.name)}
            aria-describedby={why ? `${idPrefix}-${r.name}-why` : undefined}
            onChange={(e) => {
              const next = new Set(selected);
              if ((e.currentTarget as HTMLInputElement).checked) next.add(r.name);
              else next.delete(r.name);
              onChange(next);
            }}
          />
          <span>
            <strong>{r.name}</strong>
            {r.description && <span class="desc"> — {r.description}</span>}
            {why && (
              <span class="desc" id={`${idPrefix}-${r.name}-why`}>
                {why}
              </span>
            )}
          </span>
        </label>
        );
      })}
    </fieldset>
  );
}

export function AddUserDialog({ roles, lockOf, onClose, onAdded }: { roles: Role[]; lockOf: RoleLock; onClose(): void; onAdded(u: User): void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const { me } = useSession();
  const [password, setPassword] = useState('');
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const add = useAction(() => api.post<User>('/users', { name: name.trim(), email: email.trim(), roles: [...chosen], ...(password ? { password } : {}) }));
  const [tried, setTried] = useState(false);
  const local = compact({ name: name.trim() ? undefined : 'Enter their name.', email: emailProblem(email), password: passwordProblem(password, me.password_min_length) });
  const problems = { ...(tried ? local : {}), ...serverProblems(add.error) };
  const err = (field: string) => problems[field];
  const submit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    add.clearError();
    if (Object.keys(local).length) return;
    const u = await add.run();
    if (u) onAdded(u);
  };
  return (
    <Dialog title="Add user" onClose={onClose}>
      <form id="add-user" onSubmit={submit} noValidate>
        <Field id="user-name" label="Name" error={err('name')}>
          <input id="user-name" type="text" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </Field>
        <Field id="user-email" label="Email" error={err('email')}>
          <input id="user-email" type="email" autocomplete="off" value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="user-password" label="Initial password" hint={`${passwordRule(me.password_min_length)} Without one, they cannot sign in until a password is set.`} error={err('password')}>
          <input id="user-password" type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <RoleChoices roles={roles} selected={chosen} onChange={setChosen} idPrefix="add-role" lockOf={lockOf} />
        <ErrorNotice error={otherError(add.error, ['name', 'email', 'password'])} />
      </form>
      <div class="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit" form="add-user" busy={add.busy} busyLabel="Adding…">
          Add user
        </Button>
      </div>
    </Dialog>
  );
}

/**
 * `self`: the signed-in person's own roles, which change what this console lets them do once saved.
 * `lastAdmin`: they are the only active administrator, whose admin role the server will not remove.
 */
export function RolesDialog({ user, self, lastAdmin, roles, lockOf, onClose, onSaved }: { user: User; self?: boolean; lastAdmin?: boolean; roles: Role[]; lockOf: RoleLock; onClose(): void; onSaved(u: User): void }) {
  const [chosen, setChosen] = useState<Set<string>>(new Set(user.roles));
  const losesLastAdmin = Boolean(lastAdmin) && !chosen.has(ADMIN_ROLE);
  const save = useAction(() => api.patch<User>(`/users/${encodeURIComponent(user.id)}`, { roles: [...chosen] }));
  return (
    <Dialog
      title={`Roles of ${user.name}`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="primary"
            busy={save.busy}
            busyLabel="Saving…"
            {...(losesLastAdmin ? { disabled: true, title: LAST_ADMIN } : {})}
            onClick={async () => {
              const u = await save.run();
              if (u) onSaved(u);
            }}
          >
            Save roles
          </Button>
        </>
      }
    >
      {self && (
        <Notice kind="warning">
          These are your own roles. Once saved, the console shows only what the new roles allow, and a permission you give up you cannot give yourself back.
        </Notice>
      )}
      {roles.length ? <RoleChoices roles={roles} selected={chosen} onChange={setChosen} idPrefix="edit-role" lockOf={lockOf} /> : <NeedsPermission permission="roles:read" what="see the roles to choose from" />}
      {losesLastAdmin && <Notice kind="warning">{user.name} is the only active administrator. Give someone else the admin role first: without one, nobody could grant roles any more.</Notice>}
      <ErrorNotice error={save.error} />
    </Dialog>
  );
}

/** Name, email and, optionally, a new password; only what changed is sent. */
export function EditUserDialog({ user, onClose, onSaved }: { user: User; onClose(): void; onSaved(u: User, passwordSet: boolean): void }) {
  const [name, setName] = useState(user.name);
  const [email, setEmail] = useState(user.email);
  const { me } = useSession();
  const [password, setPassword] = useState('');
  const changes = {
    ...(name.trim() !== user.name ? { name: name.trim() } : {}),
    ...(email.trim() !== user.email ? { email: email.trim() } : {}),
    ...(password ? { password } : {}),
  };
  const save = useAction(() => api.patch<User>(`/users/${encodeURIComponent(user.id)}`, changes));
  const [tried, setTried] = useState(false);
  const local = compact({ name: name.trim() ? undefined : 'Enter their name.', email: emailProblem(email), password: passwordProblem(password, me.password_min_length) });
  const problems = { ...(tried ? local : {}), ...serverProblems(save.error) };
  const err = (field: string) => problems[field];
  const submit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    save.clearError();
    if (Object.keys(local).length) return;
    const u = await save.run();
    if (u) onSaved(u, Boolean(password));
  };
  return (
    <Dialog
      title={`Edit ${user.name}`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="edit-user" busy={save.busy} busyLabel="Saving…" disabled={!Object.keys(changes).length}>
            Save user
          </Button>
        </>
      }
    >
      <form id="edit-user" onSubmit={submit} noValidate>
        <Field id="edit-user-name" label="Name" error={err('name')}>
          <input id="edit-user-name" type="text" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </Field>
        <Field id="edit-user-email" label="Email" hint="What they sign in with." error={err('email')}>
          <input id="edit-user-email" type="email" autocomplete="off" value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="edit-user-password" label="New password" hint={`${passwordRule(me.password_min_length)} Leave empty to keep their password.`} error={err('password')}>
          <input id="edit-user-password" type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <ErrorNotice error={otherError(save.error, ['name', 'email', 'password'])} title="The changes were not saved." />
      </form>
    </Dialog>
  );
}
