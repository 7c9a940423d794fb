import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { signOut } from '../auth.js';
import { Link, useLocation } from '../router.js';
import { useSession } from '../session.js';

const NAV = [
  { href: '/console/', label: 'API Access', match: (p: string) => p === '/console/' || p === '/console' || p.startsWith('/console/credentials') },
  { href: '/console/api-keys', label: 'API keys' },
  { href: '/console/apis', label: 'APIs' },
  { href: '/console/users', label: 'Users' },
  { href: '/console/roles', label: 'Roles' },
  { href: '/console/signing-keys', label: 'Signing keys' },
  { href: '/console/resource-servers', label: 'Resource servers' },
  { href: '/console/audit', label: 'Audit log' },
  { href: '/console/webhooks', label: 'Webhooks' },
];

/** The console's frame: navigation on the left (a menu on phones), the signed-in user, the page. */
export function Layout({ children }: { children: ComponentChildren }) {
  const { path } = useLocation();
  const { me } = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  const who = me.user ? me.user.name || me.user.email : me.id;
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <aside class={`sidebar ${menuOpen ? 'open' : ''}`}>
        <div class="brand-row">
          <Link href="/console/" class="brand">
            <span class="brand-mark" aria-hidden="true">G</span> Gatehouse
          </Link>
          <button type="button" class="btn btn-ghost menu-btn" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen((o) => !o)}>
            Menu
          </button>
        </div>
        <nav id="main-nav" aria-label="Console">
          <ul>
            {NAV.map((item) => {
              const current = item.match ? item.match(path) : path.startsWith(item.href);
              return (
                <li key={item.href}>
                  <Link href={item.href} class={current ? 'active' : undefined} aria-current={current ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div class="account">
          <div class="account-who">
            <span class="account-name">{who}</span>
            {me.user && me.user.name && <span class="account-email">{me.user.email}</span>}
            {me.user && <span class="account-roles">{me.user.roles.join(', ') || 'no role'}</span>}
          </div>
          <button type="button" class="btn btn-ghost" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </aside>
      <main id="main" class="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
