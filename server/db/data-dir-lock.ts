import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * One process per embedded database. PGlite keeps the whole database in the memory of the process
 * that opened it and writes it back to DATA_DIR/pg; a second process on the same folder works on its
 * own copy, and whichever closes last overwrites the other's changes. So the first process to open
 * a data folder holds a lock on it, and any other is refused before it reads or writes anything.
 *
 * The lock is a listening Unix socket. On Linux it lives in the abstract namespace (no file; the
 * kernel removes it the instant the process dies, however it dies), so a crash can never leave a
 * stale lock behind; on Windows it is a named pipe, which behaves the same. Elsewhere it is a
 * socket file: a file whose listener is gone refuses connections, which tells a crashed holder from
 * a live one, and it is then replaced. The holder answers every connection with who it is, which is
 * what the refusal message quotes.
 */

export interface LockHolder {
  pid: number;
  /** What the process is, for people: "the Gatehouse server (http://localhost:3000)". */
  what: string;
  since: string;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder | undefined,
  ) {
    const who = holder ? `process ${holder.pid}, ${holder.what}, since ${holder.since}` : 'another process';
    super(
      `the embedded database in ${dataDir} is in use by ${who}. ` +
        'It belongs to one process at a time (a second one would overwrite its changes), so nothing was changed. ' +
        'While the server runs, make this change through the Management API (/api/v1, see the README) or the admin console; ' +
        `or stop that process first${holder ? ` (kill -TERM ${holder.pid})` : ''} and run this again; ` +
        'or set DATABASE_URL to a Postgres that several processes can share.',
    );
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Where the lock of a data folder listens. Linux: an abstract socket named by the folder. Windows: a
 * named pipe, which also vanishes with its process. Elsewhere (macOS): a socket file in the folder,
 * or in the temporary directory when the folder's path is too long for a socket address (104 bytes).
 */
function lockAddress(dataDir: string): { path: string; file: boolean } {
  // The folder may not exist yet (a first start), so its realpath may not either: hash the
  // resolved path then. Two spellings of one existing folder (a symlink) resolve to one name.
  let dir = resolve(dataDir);
  try {
    dir = realpathSync(dir);
  } catch {
    /* not created yet */
  }
  const name = `gatehouse-data-dir-${createHash('sha256').update(dir).digest('hex')}`;
  if (process.platform === 'linux') {
    // An abstract name is compared with its length, and some Node.js versions pad it with NULs to
    // the full sun_path (108 bytes) while others do not: a name of exactly that length is the same
    // name to all of them.
    return { path: `\0${name}`.padEnd(108, '.'), file: false };
  }
  if (process.platform === 'win32') return { path: `\\\\.\\pipe\\${name}`, file: false };
  mkdirSync(dataDir, { recursive: true });
  const inFolder = join(dataDir, 'gatehouse.lock');
  return { path: Buffer.byteLength(inFolder) < 100 ? inFolder : join(tmpdir(), `${name.slice(0, 40)}.lock`), file: true };
}

function listen(server: Server, path: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((done) => {
    const onError = (err: NodeJS.ErrnoException) => done(err);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      done(undefined);
    });
  });
}

/** Asks the holder who it is. undefined: nobody listens (a crashed holder's socket file). */
function askHolder(path: string): Promise<{ alive: boolean; holder?: LockHolder }> {
  return new Promise((done) => {
    let text = '';
    const socket: Socket = connect(path);
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on('data', (d) => (text += d));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done({ alive: err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT' });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      let holder: LockHolder | undefined;
      try {
        holder = JSON.parse(text) as LockHolder;
      } catch {
        /* connected, but it said nothing readable: still alive */
      }
      done({ alive: true, holder });
    });
  });
}

/**
 * Takes the lock on a data folder for this process, or throws DataDirInUseError naming the holder.
 * The lock does not keep the process alive, and is released by release() or by the process ending.
 */
export async function lockDataDir(dataDir: string, what: string): Promise<DataDirLock> {
  const { path, file } = lockAddress(dataDir);
  const me: LockHolder = { pid: process.pid, what, since: new Date().toISOString() };
  const server = createServer((socket) => socket.end(JSON.stringify(me)));
  let err = await listen(server, path);
  if (err?.code === 'EADDRINUSE') {
    const answer = await askHolder(path);
    if (answer.alive) throw new DataDirInUseError(resolve(dataDir), answer.holder);
    if (file) {
      // A socket file nobody listens on: its holder died. Replace it. (Two processes recovering from
      // the same crash at the same instant could both succeed here; the Linux lock has no such gap.)
      unlinkSync(path);
      err = await listen(server, path);
      if (err?.code === 'EADDRINUSE') throw new DataDirInUseError(resolve(dataDir), (await askHolder(path)).holder);
    }
  }
  if (err) throw err;
  server.unref();
  return {
    release: () => new Promise<void>((done) => server.close(() => done())),
  };
}
