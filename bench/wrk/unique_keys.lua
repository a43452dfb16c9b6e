-- Full misses: every request asks for a key never asked before.
-- usage: wrk ... -s unique_keys.lua URL -- PREFIX
-- PREFIX must be new for every run (bench/run.py puts the run and round in it).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local prefix, i = "u", 0
local counter = 1

function setup(thread)
   thread:set("thread_id", counter)
   counter = counter + 1
end

function init(args)
   prefix = (args[1] or "u") .. "-t" .. (thread_id or 1) .. "-"
end

function request()
   i = i + 1
   return wrk.format("GET", "/data/" .. prefix .. i)
end
