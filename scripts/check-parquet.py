#!/usr/bin/env python3
"""Reads a run's report/requests.parquet with pyarrow and checks it against the
records it came from (caller.ndjson[.gz], gateway-*.ndjson[.gz]): the columns,
and for every row its id, framework, status and stamps as the hosts wrote them,
and that roundtrip_ns is t6 - t0. Prints one JSON line of counts; exit 1 on a
mismatch. Usage: check-parquet.py RUN_DIR 'COLUMN,COLUMN,...'"""
import glob, gzip, json, os, sys

import pyarrow.parquet as pq

run, expected = sys.argv[1], sys.argv[2].split(',')


def lines(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt') as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def records(pattern):
    out = {}
    for path in glob.glob(os.path.join(run, pattern)):
        for r in lines(path):
            if 'id' in r and r.get('role') in ('caller', 'gateway'):
                out[r['id']] = r
    return out


caller = records('caller.ndjson*')
gateway = records('gateway-*.ndjson*')
table = pq.read_table(os.path.join(run, 'report', 'requests.parquet'))
bad = []
if table.column_names != expected:
    bad.append(f'columns {table.column_names} != {expected}')
rows = table.to_pylist()
stamp = lambda v: None if v is None else int(v)
checked = 0
for row in rows:
    c = caller.get(row['id'])
    g = gateway.get(row['id'])
    if c is None or g is None:
        bad.append(f"{row['id']}: no caller or gateway record")
        continue
    want = {
        't0': stamp(c['t0']), 't6': stamp(c['t6']), 't0_intended': stamp(c.get('t0_intended')),
        't1': stamp(g['t1']), 't5': stamp(g['t5']), 't3_start': stamp(g.get('t3_start')), 't3_end': stamp(g.get('t3_end')),
        'framework': g['framework'], 'caller_status': c['status'], 'gateway_status': g['status'],
        'warmup': c['warmup'], 'method': c['method'], 'path': c['path'],
    }
    for k, v in want.items():
        if row[k] != v:
            bad.append(f"{row['id']}: {k} {row[k]!r} != {v!r}")
    if row['roundtrip_ns'] != row['t6'] - row['t0']:
        bad.append(f"{row['id']}: roundtrip_ns {row['roundtrip_ns']} != t6 - t0")
    checked += 1
print(json.dumps({'rows': len(rows), 'checked': checked, 'callers': len(caller), 'measured': sum(1 for r in rows if r['measured']), 'bad': bad[:10]}))
sys.exit(1 if bad else 0)
