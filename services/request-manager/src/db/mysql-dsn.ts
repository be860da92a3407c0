/** `mysql.dsn`: the MySQL/MariaDB connection it names, as a URL or in the Go driver's DSN form. */
import { ConfigError } from '@spincycle/service-kit';

export interface MysqlConnection {
  host?: string;
  port?: number;
  socketPath?: string;
  username: string;
  password: string;
  database: string;
  /** Query parameters of the DSN (Go options such as parseTime are accepted and ignored). */
  params: Record<string, string>;
}

/**
 * Parse a MySQL DSN: a `mysql://user:pass@host:port/db?…` URL or the original's
 * Go DSN `user:pass@tcp(host:port)/db?…` (also `unix(/path)`). Throws ConfigError.
 */
export function parseMysqlDsn(dsn: string): MysqlConnection {
  const bad = (why: string) => new ConfigError(`config: 'mysql.dsn' ${why}`);
  if (/^mysql:\/\//i.test(dsn)) {
    let u: URL;
    try {
      u = new URL(dsn);
    } catch {
      throw bad('is not a valid mysql:// URL');
    }
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    if (!database) throw bad('must name a database (mysql://user:pass@host:port/DATABASE)');
    return {
      host: u.hostname || '127.0.0.1',
      port: u.port ? Number(u.port) : 3306,
      username: decodeURIComponent(u.username) || 'root',
      password: decodeURIComponent(u.password),
      database,
      params: Object.fromEntries(u.searchParams),
    };
  }
  const m = /^(?:([^:@]*)(?::(.*))?@)?(tcp|unix)?(?:\(([^)]*)\))?\/([^?]*)(?:\?(.*))?$/.exec(dsn);
  if (!m) throw bad('must be mysql://user:pass@host:port/db or user:pass@tcp(host:port)/db');
  const [, user = '', pass = '', net = 'tcp', addr = '', database = '', query = ''] = m;
  if (!database) throw bad('must name a database (user:pass@tcp(host:port)/DATABASE)');
  const params = Object.fromEntries(new URLSearchParams(query));
  if (net === 'unix') {
    // No guessed default: where the server's socket lives differs from one installation to the next.
    if (!addr) throw bad('a unix DSN must name its socket: user:pass@unix(/path/to/mysqld.sock)/db');
    return {
      socketPath: addr,
      username: user || 'root',
      password: pass,
      database,
      params,
    };
  }
  const hp = /^(.*?)(?::(\d+))?$/.exec(addr || 'localhost:3306');
  return {
    host: hp?.[1] || 'localhost',
    port: hp?.[2] ? Number(hp[2]) : 3306,
    username: user || 'root',
    password: pass,
    database,
    params,
  };
}
