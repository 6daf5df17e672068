#!/usr/bin/env python3
# Times the analysis dashboard of a prepared case (the HTML page and the JSON behind it)
# every 0.25 s for SECONDS, e.g. while beraad-load posts into the same case; prints
# percentiles. Usage: dashboard-probe.py STATE_FILE BASE_URL SECONDS LABEL
import json, sys, time, urllib.request, statistics
state = json.load(open(sys.argv[1]))
cookie = 'beraad_session=' + state['admin']['cookie']
case = state['cases'][0]['id']
base = sys.argv[2]
secs = float(sys.argv[3]); label = sys.argv[4]
def fetch(path):
    t = time.perf_counter()
    req = urllib.request.Request(base + path, headers={'Cookie': cookie})
    with urllib.request.urlopen(req) as r:
        body = r.read(); assert r.status == 200
    return (time.perf_counter() - t) * 1000, len(body)
page, api = [], []
end = time.time() + secs
while time.time() < end:
    page.append(fetch(f'/beheer/casus/{case}/analyse')[0])
    api.append(fetch(f'/api/v1/cases/{case}/analysis')[0])
    time.sleep(0.25)
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs)-1, int(round(p/100*(len(xs)-1))))]
for name, xs in (('page /beheer/casus/ID/analyse', page), ('api /api/v1/cases/ID/analysis', api)):
    print(f'{label}: {name}: n={len(xs)} p50={pct(xs,50):.1f} ms p95={pct(xs,95):.1f} ms max={max(xs):.1f} ms')
