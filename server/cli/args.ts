/**
 * A small, strict command-line parser: `--name value`, `--name=value`, repeatable list options, and
 * booleans. Anything unknown is an error rather than silently ignored, because an operator's typo
 * (`--scopes` for `--scope`) must not create a credential with other rights than intended.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type OptionType = 'string' | 'boolean' | 'list';

export interface OptionSpec {
  type: OptionType;
  /** One line for --help. */
  help: string;
  /** Shown in --help in place of the value. */
  value?: string;
  required?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface Parsed {
  positional: string[];
  options: Record<string, string | boolean | string[] | undefined>;
}

export function parseArgs(argv: readonly string[], specs: OptionSpecs): Parsed {
  const positional: string[] = [];
  const options: Parsed['options'] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1) throw new UsageError(`unknown option ${arg}`);
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (spec.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    if (spec.type === 'list') {
      const list = (options[name] as string[] | undefined) ?? [];
      // Repeatable, and commas separate values too: --scope a --scope b, or --scope a,b.
      list.push(...value.split(/[\s,]+/).filter(Boolean));
      options[name] = list;
    } else {
      if (options[name] !== undefined) throw new UsageError(`--${name} may be given once`);
      options[name] = value;
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required && options[name] === undefined) throw new UsageError(`--${name} is required`);
  }
  return { positional, options };
}

export function describeOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `--${name}${s.type === 'boolean' ? '' : ` ${s.value ?? 'VALUE'}`}${s.type === 'list' ? ' ...' : ''}`;
    return [left, `${s.help}${s.required ? ' (required)' : ''}`];
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`).join('\n');
}

/** `3600`, `90s`, `30m`, `12h`, `365d` → seconds. */
export function parseDuration(value: string, option: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(value.trim());
  if (!m) throw new UsageError(`--${option} must be seconds or a number with s, m, h or d (e.g. 3600, 12h, 365d)`);
  const n = Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (n < 1) throw new UsageError(`--${option} must be at least one second`);
  return n;
}
