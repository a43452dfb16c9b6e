-- Bulk loader for the memory test: asks for keys PREFIX0 .. PREFIX(N-1) once
-- each (every one a miss that fills L1), then stops. Requests still in flight
-- after the N-th is sent wrap around to already loaded keys (hits). After the
-- N-th answer it prints LOADED, on which bench/run.py interrupts wrk.
-- usage: wrk -t1 ... -s load_keys.lua URL -- PREFIX N
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local prefix, n = "m", 0
local sent, answered = 0, 0

function init(args)
   prefix = args[1] or "m"
   n = tonumber(args[2])
end

function request()
   local k = sent % n
   sent = sent + 1
   return wrk.format("GET", "/data/" .. prefix .. k)
end

function response(status, headers, body)
   answered = answered + 1
   if answered == n then
      io.write("LOADED\n")
      io.flush()
      wrk.thread:stop()
   end
end
