-- wrk: GETs on keep-alive connections, or each on a new one with WRK_CLOSE=1 ("Connection:
-- close"), paced by WRK_DELAY_MS per request and connection when set (the soak); at the end one
-- line "WRKJSON {...}" (latencies in microseconds) for lib.mjs.
wrk.method = "GET"
wrk.headers["Host"] = "bench.local"
if os.getenv("WRK_CLOSE") == "1" then
  wrk.headers["Connection"] = "close"
end

local pace_ms = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pace_ms then
  delay = function()
    return pace_ms
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"errors":%d,"timeouts":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, errors, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
