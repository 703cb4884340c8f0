/**
 * The real node's network, all of it this cluster's own: a bridge named after the cluster
 * with a /24 of 10.244.0.0/16 that no route on the host uses, whose gateway address is also
 * the node's IP (so the kubelet listens only on an address of this machine, not on the LAN);
 * a CNI conflist (bridge + host-local IPAM under the cluster's dir + portmap + loopback).
 * Before anything changes, the iptables chains and the kernel settings the kubelet and the
 * bridge plugin touch are written down, so teardown removes exactly what this node added.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../../errors.js';
import { TOUCHED_SYSCTLS, type RealNodeLayout } from './layout.js';

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/** e.g. kp-1a2b3c4d (at most 15 characters, the kernel's limit). */
export function bridgeName(cluster: string): string {
  return `kp-${hash(cluster).slice(0, 8)}`;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function overlaps(a: string, b: string): boolean {
  const [ia, la] = a.split('/');
  const [ib, lb] = b.split('/');
  const bits = Math.min(Number(la ?? 32), Number(lb ?? 32));
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipToInt(ia!) & mask) >>> 0) === ((ipToInt(ib!) & mask) >>> 0);
}

/** The IPv4 destinations routed on this host (all tables), as CIDRs. */
async function routedCidrs(): Promise<string[]> {
  const r = await execa('ip', ['-4', '-j', 'route', 'show', 'table', 'all'], { reject: false });
  if (r.exitCode !== 0) throw new EnvironmentError(`ip route failed: ${r.stderr}`, { hint: 'apt-get install -y iproute2' });
  const routes = JSON.parse(r.stdout || '[]') as Array<{ dst?: string; type?: string }>;
  return routes
    .map((x) => x.dst ?? '')
    .filter((d) => d && d !== 'default' && !d.startsWith('127.') && d !== '0.0.0.0/0')
    .map((d) => (d.includes('/') ? d : `${d}/32`));
}

/** A 10.244.N.0/24 no route on the host overlaps, starting from one derived from the cluster's name. */
export async function choosePodSubnet(cluster: string, avoid: string[] = ['10.0.0.0/24']): Promise<string> {
  const used = [...(await routedCidrs()).filter((c) => !c.endsWith('/32') || c.startsWith('10.244.')), ...avoid];
  const start = parseInt(hash(cluster).slice(0, 4), 16) % 250;
  for (let i = 0; i < 250; i++) {
    const subnet = `10.244.${((start + i) % 250) + 1}.0/24`;
    if (!used.some((u) => overlaps(u, subnet))) return subnet;
  }
  throw new EnvironmentError('no free /24 in 10.244.0.0/16 for the real node\'s pods: every one overlaps a route on this host');
}

export function gatewayOf(subnet: string): string {
  return subnet.replace(/\.0\/24$/, '.1');
}

async function ip(args: string[]): Promise<void> {
  const r = await execa('ip', args, { reject: false, all: true });
  if (r.exitCode !== 0) throw new EnvironmentError(`ip ${args.join(' ')} failed: ${(r.all ?? '').trim()}`);
}

/** The bridge, up, with the gateway address: the CNI bridge plugin finds it ready and uses it. */
export async function createBridge(bridge: string, subnet: string): Promise<void> {
  await ip(['link', 'add', 'name', bridge, 'type', 'bridge']);
  await ip(['addr', 'add', `${gatewayOf(subnet)}/24`, 'dev', bridge]);
  await ip(['link', 'set', bridge, 'up']);
}

export async function deleteBridge(bridge: string): Promise<boolean> {
  const r = await execa('ip', ['link', 'del', bridge], { reject: false, all: true });
  return r.exitCode === 0;
}

export async function linkExists(name: string): Promise<boolean> {
  return (await execa('ip', ['link', 'show', name], { reject: false })).exitCode === 0;
}

export async function writeCniConfig(l: RealNodeLayout, network: string, bridge: string, subnet: string): Promise<void> {
  const conf = {
    cniVersion: '0.4.0',
    name: network,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        // No masquerade: pod traffic has no reason to leave this machine, and no per-pod NAT chains are left to clean.
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', dataDir: l.cni.ipamDir, ranges: [[{ subnet, gateway: gatewayOf(subnet) }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'loopback' },
    ],
  };
  await writeFile(join(l.cni.confDir, '10-kubeproof.conflist'), `${JSON.stringify(conf, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// iptables: what exists before, and removing what was added since.

const FAMILIES = [
  { family: 'ipv4', save: 'iptables-save', cmd: 'iptables' },
  { family: 'ipv6', save: 'ip6tables-save', cmd: 'ip6tables' },
] as const;
const TABLES = ['filter', 'nat', 'mangle', 'raw'] as const;

async function save(saveCmd: string, table: string): Promise<string> {
  const r = await execa(saveCmd, ['-t', table], { reject: false });
  return r.exitCode === 0 ? r.stdout : '';
}

/** Chains per "family/table" (e.g. "ipv4/nat"). */
export async function iptablesChains(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const f of FAMILIES) {
    for (const t of TABLES) {
      const text = await save(f.save, t);
      out[`${f.family}/${t}`] = [...text.matchAll(/^:(\S+)/gm)].map((m) => m[1]!).sort();
    }
  }
  return out;
}

/** Split one iptables-save rule into arguments (double-quoted strings may hold spaces). */
export function splitRule(rule: string): string[] {
  const args: string[] = [];
  for (const m of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return args;
}

/**
 * Remove chains with the given prefixes that did not exist in `before`: first every rule that
 * jumps to them, then their rules, then the chains. Returns what was removed ("ipv4/nat KUBE-SERVICES").
 */
export async function removeAddedChains(before: Record<string, string[]>, prefixes: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const f of FAMILIES) {
    for (const t of TABLES) {
      const key = `${f.family}/${t}`;
      const text = await save(f.save, t);
      const existing = [...text.matchAll(/^:(\S+)/gm)].map((m) => m[1]!);
      const added = new Set(existing.filter((c) => prefixes.some((p) => c.startsWith(p)) && !(before[key] ?? []).includes(c)));
      if (added.size === 0) continue;
      for (const line of text.split('\n')) {
        if (!line.startsWith('-A ')) continue;
        const args = splitRule(line);
        const chain = args[1]!;
        const target = args[args.indexOf('-j') + 1];
        if (!added.has(chain) && target && added.has(target)) {
          await execa(f.cmd, ['-w', '-t', t, '-D', ...args.slice(1)], { reject: false });
        }
      }
      for (const c of added) await execa(f.cmd, ['-w', '-t', t, '-F', c], { reject: false });
      for (const c of added) {
        const r = await execa(f.cmd, ['-w', '-t', t, '-X', c], { reject: false });
        if (r.exitCode === 0) removed.push(`${key} ${c}`);
      }
    }
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// Kernel settings.

export async function readSysctls(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of TOUCHED_SYSCTLS) {
    const v = await readFile(`/proc/sys/${k}`, 'utf8').catch(() => undefined);
    if (v !== undefined) out[k] = v.trim();
  }
  return out;
}

/** Put back the values `before` recorded; returns the keys that had changed. */
export async function restoreSysctls(before: Record<string, string>): Promise<string[]> {
  const changed: string[] = [];
  for (const [k, v] of Object.entries(before)) {
    const now = (await readFile(`/proc/sys/${k}`, 'utf8').catch(() => v)).trim();
    if (now === v) continue;
    await writeFile(`/proc/sys/${k}`, v).then(
      () => changed.push(`${k.replace(/\//g, '.')} ${now} → ${v}`),
      () => changed.push(`${k.replace(/\//g, '.')} could not be restored to ${v} (now ${now})`),
    );
  }
  return changed;
}
