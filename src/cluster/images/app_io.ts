// How an app's runtime reads and writes its TCP sockets, which decides what
// AppArmor checks (the kernel's TcpConnection.fileAccess): read(2)/write(2)
// and readv/writev go through the file permission check, recv/send do not.

import type { TcpConnection } from '../../kernel/api.ts';

export interface AppIo {
  /** The app's task is AppArmor-confined (ContainerSpec.confined). */
  confined: boolean;
  /**
   * read(2) on an accepted connection: at once (Go's server goroutine reads right after accept, before any data
   * is there), on the first data (libuv reads when epoll says readable), or never (recv(2): nginx).
   */
  read: 'at-accept' | 'on-data' | 'recv';
  /** write(2)/writev(2) (Go, libuv, nginx's writev) rather than send(2). */
  vfsWrite: boolean;
}

/** Go's net package: read(2) and write(2) on every conn. */
export const goIo = (confined: boolean): AppIo => ({ confined, read: 'at-accept', vfsWrite: true });
/** Node's libuv: read(2) on readiness, write(2)/writev(2). */
export const libuvIo = (confined: boolean): AppIo => ({ confined, read: 'on-data', vfsWrite: true });
/** nginx: recv(2) (ngx_unix_recv), writev(2) (ngx_writev). */
export const nginxIo = (confined: boolean): AppIo => ({ confined, read: 'recv', vfsWrite: true });

/** The accepted connection's file checks as the app goes: `accepted` once, `data` before handling input, `write` before each write. */
export function appIo(c: TcpConnection, io: AppIo | undefined): { data(): void; write(): void } {
  if (!io?.confined || !c.fileAccess) return { data: () => {}, write: () => {} };
  if (io.read === 'at-accept') c.fileAccess('read', true);
  return {
    data: () => { if (io.read === 'on-data') c.fileAccess!('read', true); },
    write: () => { if (io.vfsWrite) c.fileAccess!('write', true); },
  };
}
