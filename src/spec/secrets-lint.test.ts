import { describe, expect, it } from 'vitest';
import { plaintextSecretsInCommand } from './secrets.js';

describe('plaintext secrets in command lines and connection strings', () => {
  it('finds secret assignments, secret flags and URLs with a password', () => {
    expect(plaintextSecretsInCommand('PGPASSWORD=hunter2 pg_receivewal -D /arch')).toEqual(['PGPASSWORD=']);
    expect(plaintextSecretsInCommand("host=db0 user=repl password='x y' sslmode=require")).toEqual(['password=']);
    expect(plaintextSecretsInCommand('/usr/bin/app --password hunter2 --port 5')).toEqual(['--password']);
    expect(plaintextSecretsInCommand('/usr/bin/app --token=abc')).toEqual(['--token']);
    expect(plaintextSecretsInCommand('/usr/bin/env API_KEY=abc /usr/bin/app')).toEqual(['API_KEY=']);
    expect(plaintextSecretsInCommand('/usr/bin/app --db postgres://app:pw@db0/app')).toEqual(['a URL with a password']);
  });

  it('leaves references, other flags and -p alone', () => {
    expect(plaintextSecretsInCommand('/usr/bin/app --password $PW --token ${TOKEN} --api-key=%d/key')).toEqual([]);
    expect(plaintextSecretsInCommand('/usr/bin/app --password-file /etc/app/pw --password --verbose')).toEqual([]);
    expect(plaintextSecretsInCommand('psql -p 5432 -h db0 -U app')).toEqual([]);
    expect(plaintextSecretsInCommand('cp %p /archive/%f')).toEqual([]);
    expect(plaintextSecretsInCommand('git clone ssh://git@host/repo')).toEqual([]);
    expect(plaintextSecretsInCommand('PGPASSFILE=/etc/pgpass pg_basebackup')).toEqual([]);
  });

  it('never returns the secret itself', () => {
    expect(JSON.stringify(plaintextSecretsInCommand('PGPASSWORD=hunter2 x --password hunter3 postgres://u:hunter4@h'))).not.toMatch(/hunter/);
  });
});
