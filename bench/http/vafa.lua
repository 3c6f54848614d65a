-- wrk script of bench/bench_http.py: one script, the mode named by its arguments.
--
--   wrk ... -s vafa.lua URL -- get <path>                       (GET, no cookie)
--   wrk ... -s vafa.lua URL -- page <path> <cookies file>       (GET as members)
--   wrk ... -s vafa.lua URL -- earn <run> <members> <key file>
--   wrk ... -s vafa.lua URL -- redeem <run> <codes file> <first> <last> <threads> <key file>
--
-- page: the file holds one login token a line; each thread starts at its own line and
-- takes the next one for every request, so the members are spread over the connections.
-- earn: a random member in 1..<members> (phones +98912 and seven digits, as
-- bench/generate.py makes them), amount 100,000..5,000,000 Rials, every third purchase
-- a coffee; receipt and Idempotency-Key <run>-<thread>-<counter>, unique across threads.
-- redeem: 5 points with a member code from the file (one a line); codes <first> to
-- <last> - 1 (0-based) are this run's; thread t of <threads> takes first + t - 1, then
-- every <threads>-th, so no code is used twice. A thread that runs out asks /healthz instead and
-- counts it (`exhausted`); bench_http.py then calls the figure invalid.
--
-- Every thread counts answers that are not 2xx (wrk itself counts only >= 400) and
-- keeps the first such body; done() prints one line, "BENCH_HTTP {json}".

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

-- Globals read by done() through thread:get().
non2xx = 0
exhausted = 0
statuses = {}
sample = ""

local mode, path, run, tid, nthreads
local counter = 0
local tokens, codes = {}, {}
local next_token, next_code, last_code = 1, 1, 0
local members, key

local function lines(name)
  local out = {}
  for line in io.lines(name) do
    if line ~= "" then
      table.insert(out, line)
    end
  end
  return out
end

local function read_key(name)
  return lines(name)[1]
end

function init(args)
  mode = args[1]
  tid = tonumber(wrk.thread:get("tid"))
  if mode == "get" then
    path = args[2]
  elseif mode == "page" then
    path = args[2]
    tokens = lines(args[3])
    next_token = ((tid - 1) * 7) % #tokens + 1
  elseif mode == "earn" then
    run = args[2]
    members = tonumber(args[3])
    key = read_key(args[4])
    math.randomseed(tid * 7919 + os.time())
  elseif mode == "redeem" then
    run = args[2]
    codes = lines(args[3])
    nthreads = tonumber(args[6])
    next_code = tonumber(args[4]) + tid -- 1-based index into codes
    last_code = tonumber(args[5])       -- 0-based, exclusive: 1-based inclusive
    key = read_key(args[7])
  else
    error("unknown mode " .. tostring(mode))
  end
end

local json_headers = function(idempotency)
  return {
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = idempotency,
    ["Content-Type"] = "application/json",
  }
end

function request()
  counter = counter + 1
  if mode == "get" then
    return wrk.format("GET", path)
  elseif mode == "page" then
    local token = tokens[next_token]
    next_token = next_token % #tokens + 1
    return wrk.format("GET", path, { ["Cookie"] = "vafa_session=" .. token })
  elseif mode == "earn" then
    local id = run .. "-" .. tid .. "-" .. counter
    local member = math.random(1, members)
    local amount = math.random(1, 50) * 100000
    local categories = ""
    if counter % 3 == 0 then
      categories = ',"categories":["coffee"]'
    end
    local body = string.format(
      '{"phone":"+98912%07d","amount":%d,"receipt":"%s"%s}', member, amount, id, categories
    )
    return wrk.format("POST", "/api/v1/earn", json_headers("earn-" .. id), body)
  else -- redeem
    if next_code > last_code then
      exhausted = exhausted + 1
      return wrk.format("GET", "/healthz")
    end
    local code = codes[next_code]
    next_code = next_code + nthreads
    local id = run .. "-" .. tid .. "-" .. counter
    local body = string.format(
      '{"points":5,"receipt":"%s","member_code":"%s"}', id, code
    )
    return wrk.format("POST", "/api/v1/redemptions", json_headers("redeem-" .. id), body)
  end
end

function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if sample == "" then
      sample = k .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local function quote(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests)
  local non, out, merged, first = 0, 0, {}, ""
  for _, thread in ipairs(threads) do
    non = non + (thread:get("non2xx") or 0)
    out = out + (thread:get("exhausted") or 0)
    for k, v in pairs(thread:get("statuses") or {}) do
      merged[k] = (merged[k] or 0) + v
    end
    local s = thread:get("sample") or ""
    if first == "" then
      first = s
    end
  end
  local parts = {}
  for k, v in pairs(merged) do
    table.insert(parts, string.format('"%s":%d', k, v))
  end
  local e = summary.errors
  print(string.format(
    'BENCH_HTTP {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"non2xx":%d,"exhausted":%d,"statuses":{%s},"sample":%s,' ..
    '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"mean":%d,"max":%d}}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    non, out, table.concat(parts, ","), quote(first),
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    math.floor(latency.mean), latency.max
  ))
end
