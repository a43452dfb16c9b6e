-- Cache hits: cycles through a small set of keys that the warm-up has cached.
-- usage: wrk ... -s hit_keys.lua URL -- PREFIX NKEYS
-- requests GET /data/<PREFIX><i> for i = 1..NKEYS, round robin.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local requests = {}
local n, i = 0, 0

function init(args)
   local prefix = args[1] or "k"
   n = tonumber(args[2] or "1000")
   for k = 1, n do
      requests[k] = wrk.format("GET", "/data/" .. prefix .. k)
   end
end

function request()
   i = i % n + 1
   return requests[i]
end
