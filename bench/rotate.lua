-- wrk script for Tessera's bench: rotates request bodies (one per line of a file) across requests, can pace each
-- connection (WRK_DELAY_MS, read at load time because wrk checks for delay() before init runs) and prints a JSON summary.
local bodies = {}
local i = 0
local method = "GET"
local path = "/"
local headers = {}

function init(args)
  method = args[1] or "GET"
  path = args[2] or "/"
  local file = args[3]
  if file ~= nil and file ~= "" and file ~= "-" then
    for line in io.lines(file) do
      if line ~= "" then bodies[#bodies + 1] = line end
    end
  end
  for n = 4, #args do
    local k, v = string.match(args[n], "^([^:]+):%s*(.*)$")
    if k then headers[k] = v end
  end
  -- Threads and connections start at different offsets so distinct bodies are in flight at once.
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  if #bodies > 0 then i = math.random(0, #bodies - 1) end
end

function request()
  if #bodies == 0 then return wrk.format(method, path, headers, nil) end
  i = (i % #bodies) + 1
  return wrk.format(method, path, headers, bodies[i])
end

local pace = tonumber(os.getenv("WRK_DELAY_MS") or "0") or 0
if pace > 0 then
  function delay()
    return pace
  end
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
