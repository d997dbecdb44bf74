import { execFile } from 'node:child_process'
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import test from 'ava'
import { BIN, type Daemon, nodeArgs, runBin, startDaemon } from './helpers/bin.js'
import { tempDir } from './helpers/files.js'

/** Runs a command as `nobody` (setpriv), bounded; resolves its exit status and output. */
function asNobody(cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...cmd],
      { timeout: 30_000, env: { ...process.env, HOME: '/nonexistent' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    )
  })
}

/** One raw HTTP request to the API, with no credential unless given. */
function raw(api: string, method: string, path: string, body?: unknown, token?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const { hostname, port } = new URL(api)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (token) headers.authorization = `Bearer ${token}`
    const req = request({ host: hostname, port, method, path, headers, timeout: 10_000 }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

function rssKb(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmRSS:\s+(\d+)/.exec(s)?.[1]))
}

/** User + system CPU of a process so far, in milliseconds (clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

const canSwitchUser = process.getuid?.() === 0
const maybe = canSwitchUser ? test : test.skip

maybe(
  'a local user without the cookie cannot make a root node write a root-only file; honest use works',
  async (t) => {
    const dir = await tempDir(t, 'cookie')
    // Anyone may read the temp folder itself (nobody must reach the client, not the secrets).
    await chmod(dir, 0o755)
    const daemons: Daemon[] = []
    t.teardown(async () => {
      for (const d of daemons.reverse()) await d.stop()
    })
    const node = async (data: string, share?: string, bootstrap?: string) => {
      const d = await startDaemon(
        nodeArgs(
          'flooding',
          data,
          ...(share ? ['--share', share] : []),
          ...(bootstrap ? ['--bootstrap', bootstrap] : []),
        ),
      )
      daemons.push(d)
      return d
    }
    // The attacker's file, shared by a provider: what it would like written over the victim's.
    const files = join(dir, 'files')
    await mkdir(files)
    await writeFile(join(files, 'attacker.keys'), 'ssh-ed25519 AAAA attacker\n')
    const provider = await node(join(dir, 'provider-data'), files)
    const victimData = join(dir, 'victim-data')
    const victim = await node(victimData, undefined, provider.lines.get('listen')?.[0])
    const api = victim.lines.get('api')?.[0] ?? ''
    const cookie = victim.lines.get('cookie')?.[0] ?? ''
    t.is(cookie, join(victimData, 'api.cookie'))
    t.is((await stat(cookie)).mode & 0o777, 0o600)
    t.is((await stat(victimData)).mode & 0o777, 0o700)

    // A root-only file, as /root/.ssh/authorized_keys.
    const ssh = join(dir, 'root-ssh')
    await mkdir(ssh, { mode: 0o700 })
    const keys = join(ssh, 'authorized_keys')
    await writeFile(keys, 'ssh-ed25519 AAAA root\n', { mode: 0o600 })

    // The honest search (root, with the cookie through --data) finds the attacker's file.
    let hash = ''
    for (let i = 0; i < 20 && !hash; i++) {
      const r = await runBin([
        'search',
        'attacker',
        '--api',
        api,
        '--data',
        victimData,
        '--json',
        '--timeout',
        '1500',
        '--limit',
        '1',
      ])
      t.is(r.code, 0, r.stderr)
      hash = (JSON.parse(r.stdout) as { hits: Array<{ hash: string }> }).hits[0]?.hash ?? ''
    }
    t.regex(hash, /^[0-9a-f]{64}$/)

    // 1. No credential, from root itself: 401, and nothing happens.
    const fresh = join(ssh, 'new-file')
    const pid = victim.child.pid ?? 0
    const [before, cpuBefore] = [await rssKb(pid), await cpuMs(pid)]
    for (let i = 0; i < 200; i++) {
      const r = await raw(api, 'POST', '/downloads', { hash, out: fresh })
      if (r.status !== 401) return t.fail(`request ${i} answered ${r.status}: ${r.body}`)
    }
    t.is(
      (await raw(api, 'POST', '/downloads', { hash, out: keys, force: true }, 'guessed-secret')).status,
      401,
    )
    t.is((await raw(api, 'GET', '/status')).status, 401)
    const [after, cpuAfter] = [await rssKb(pid), await cpuMs(pid)]
    t.true(after - before < 32 * 1024, `200 refused requests grew the node by ${after - before} kB`)
    t.true(
      cpuAfter - cpuBefore < 2000,
      `200 refused requests cost the node ${cpuAfter - cpuBefore} ms of CPU`,
    )
    t.log(
      `200 requests without the cookie: all 401; RSS ${after - before} kB more, ${cpuAfter - cpuBefore} ms of CPU`,
    )
    t.deepEqual((await readdir(ssh)).sort(), ['authorized_keys'], 'no file (and no .part) was written')

    // 2. As nobody: the cookie cannot be read, the client is refused, and the raw attack gets 401.
    const cat = await asNobody(['cat', cookie])
    t.not(cat.code, 0)
    t.regex(cat.stderr, /Permission denied/)
    const viaData = await asNobody([
      process.execPath,
      BIN,
      'get',
      hash,
      '--out',
      keys,
      '--force',
      '--api',
      api,
      '--data',
      victimData,
    ])
    t.is(viaData.code, 1)
    t.regex(
      viaData.stderr,
      /cannot read the API cookie .*api\.cookie \(permission denied\) — run this command as the user that runs the node/,
    )
    const plain = await asNobody([process.execPath, BIN, 'get', hash, '--out', keys, '--force', '--api', api])
    t.is(plain.code, 1)
    t.regex(plain.stderr, /needs the secret in the node's cookie file/)
    const script =
      `const r=require('http').request({host:'127.0.0.1',port:${new URL(api).port},method:'POST',path:'/downloads',` +
      `headers:{'content-type':'application/json'}},(s)=>{console.log(s.statusCode);s.resume()});` +
      `r.end(JSON.stringify({hash:'${hash}',out:${JSON.stringify(keys)},force:true}))`
    const rawNobody = await asNobody([process.execPath, '-e', script])
    t.is(rawNobody.stdout.trim(), '401', rawNobody.stderr)
    t.is(await readFile(keys, 'utf8'), 'ssh-ed25519 AAAA root\n', 'the root-only file is unchanged')
    t.is((await stat(keys)).mode & 0o777, 0o600)
    t.deepEqual((await readdir(ssh)).sort(), ['authorized_keys'])

    // 3. The honest user with the cookie: get works, and still refuses to replace without --force.
    const out = join(dir, 'honest.keys')
    const got = await runBin(['get', hash, '--out', out, '--api', api, '--data', victimData, '--json'])
    t.is(got.code, 0, got.stderr)
    t.is(await readFile(out, 'utf8'), 'ssh-ed25519 AAAA attacker\n')
    const again = await runBin(['get', hash, '--out', keys, '--api', api, '--data', victimData])
    t.is(again.code, 1)
    t.regex(again.stderr, /authorized_keys exists — pass --force/)
    t.is(await readFile(keys, 'utf8'), 'ssh-ed25519 AAAA root\n')
    const status = await runBin(['status', '--api', api, '--cookie', cookie, '--json'])
    t.is(status.code, 0, status.stderr)
    t.is(JSON.parse(status.stdout).downloads.length, 1, 'only the honest download ever started')
  },
)
