-- wrk script for benchmarks/site_speed.py: each connection requests the
-- paths listed in the file named by WRK_PATHS in turn (each wrk thread
-- from its own point of the list, so that two threads do not send the same
-- sequence), and the run ends with one JSON line of figures (latencies in
-- ms; errors include non-2xx/3xx).
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local counter = 0
local threads = 0

setup = function(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

init = function(args)
  counter = (tonumber(thread_index) or 0) * math.floor(#paths / 2)
end

request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
