#!/usr/bin/env python3
"""Module dependency check (issue #13): `python3 scripts/module-deps.py [src] [-v]`.

Reads the `crate::`/`super::` paths of every file module under src/ (src/a/b.rs -> a::b, mod.rs ->
its directory; tests.rs, testutil.rs and inline `#[cfg(test)] mod … {}` are ignored), then reports
cycles (strongly connected components among top-level modules, and among the siblings of each
parent) and imports that go up the dependency order `RANK`. `-v` lists every module's imports.
Exits 1 if it found either."""
import os, re, sys, collections
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
mods = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.join(d, f)
        rel = os.path.relpath(p, root)[:-3].split(os.sep)
        if rel[-1] in ('mod', 'lib', 'main'): rel = rel[:-1]
        if rel and rel[-1] in ('tests', 'testutil'): continue
        mods[tuple(rel)] = p
def strip(src):
    src = re.sub(r'#\[cfg\(test\)\]\s*(pub(\(\w+\))?\s+)?mod\s+\w+\s*;', '', src)
    m = re.search(r'#\[cfg\(test\)\]\s*mod\s+\w+\s*\{', src)
    src = src if not m else src[:m.start()]
    src = re.sub(r'//[^\n]*', '', src)
    return src
def expand(prefix, body):
    # expand use-trees like a::{b, c::{d}} into paths
    out = []
    depth = 0; cur = ''; parts = []
    for ch in body:
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        if ch == ',' and depth == 0: parts.append(cur); cur = ''
        else: cur += ch
    parts.append(cur)
    for p in parts:
        p = p.strip()
        if not p: continue
        m = re.match(r'^([\w:]*?)::\{(.*)\}$', p, re.S)
        if m: out += expand(prefix + [x for x in m.group(1).split('::') if x], m.group(2))
        elif p.startswith('{') and p.endswith('}'): out += expand(prefix, p[1:-1])
        else: out.append(prefix + [x for x in re.split(r'\s+as\s+', p)[0].split('::') if x])
    return out
def resolve(cur, path):
    # cur: module tuple of the file; path: list of segments starting with crate/super/self
    if path[0] == 'crate': base = []; rest = path[1:]
    elif path[0] in ('super', 'self'):
        base = list(cur)
        rest = path
        while rest and rest[0] in ('super', 'self'):
            if rest[0] == 'super': base = base[:-1]
            rest = rest[1:]
    else: return None
    full = base + rest
    # longest prefix that is a module
    for n in range(len(full), 0, -1):
        if tuple(full[:n]) in mods: return tuple(full[:n])
    return None
edges = collections.defaultdict(set)
for m, p in mods.items():
    src = strip(open(p).read())
    paths = []
    for u in re.finditer(r'\buse\s+((?:crate|super|self)\b[^;]*);', src, re.S):
        body = u.group(1)
        paths += expand([], body)
    for u in re.finditer(r'\b((?:crate|super)(?:::\w+)+)', src):
        paths.append(u.group(1).split('::'))
    for path in paths:
        if not path or path[0] not in ('crate', 'super', 'self'): continue
        t = resolve(m, path)
        if t is None or t == m: continue
        edges[m].add(t)
def level_graph(parent):
    n = len(parent)
    g = collections.defaultdict(set)
    for a, ts in edges.items():
        for b in ts:
            if a[:n] != parent or b[:n] != parent: continue
            if len(a) <= n or len(b) <= n: continue  # the parent itself (mod.rs) counts as a[:n+1]? no
            ca, cb = a[:n+1], b[:n+1]
            if ca != cb: g[ca].add(cb)
    # parent's own mod.rs imports from children are normal (facade); children importing parent: count as parent node
    return g
def sccs(g):
    idx = {}; low = {}; st = []; on = set(); res = []; c = [0]
    nodes = set(g) | {y for x in g.values() for y in x}
    sys.setrecursionlimit(10000)
    def sc(v):
        idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
        for w in g.get(v, ()):
            if w not in idx: sc(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = st.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: res.append(comp)
    for v in sorted(nodes): 
        if v not in idx: sc(v)
    return res
parents = {m[:k] for m in mods for k in range(len(m))}
bad = 0
for par in sorted(parents, key=lambda t: (len(t), t)):
    for comp in sccs(level_graph(par)):
        bad += 1
        names = sorted('::'.join(x) for x in comp)
        print('cycle under', '::'.join(par) or 'crate', ':', ' <-> '.join(names))
        for a in comp:
            for b in comp:
                if a != b:
                    via = sorted('::'.join(x) for x in edges if x[:len(a)] == a and any(t[:len(b)] == b for t in edges[x]))
                    if via: print('   ', '::'.join(a), '->', '::'.join(b), 'from', ', '.join(via))
if '-v' in sys.argv:
    for m in sorted(edges): print('::'.join(m), '->', ' '.join(sorted('::'.join(t) for t in edges[m])))
print('cycles:', bad)
# Pipeline order (the store is storage: fetch fills it, build reads it, so it ranks below both): a stage imports only from stages of lower (or equal: itself) rank.
RANK = {'hash': 0, 'text': 0, 'platform': 0, 'cleanup': 0, 'entry': 0, 'debian': 0,
        'manifest': 1, 'lockfile': 1, 'store': 1.5, 'fetch': 1.7, 'archive': 2,
        'resolve': 3, 'deb': 6, 'artifact': 6, 'assemble': 7, 'layering': 7,
        'oci': 8, 'remote': 8.2, 'sbom': 8.5, 'explain': 8.6, 'build': 9, 'preflight': 9.5, 'cli': 9.8,
        'commands': 10}
up = 0
for a, ts in sorted(edges.items()):
    for b in sorted(ts):
        ra, rb = RANK.get(a[0] if a else 'lib', 99), RANK.get(b[0], 99)
        if a and b and a[0] != b[0] and rb > ra:
            up += 1
            print('upward import:', '::'.join(a), '->', '::'.join(b))
print('upward imports:', up)
sys.exit(1 if bad or up else 0)
