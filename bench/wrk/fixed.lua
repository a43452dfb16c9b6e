-- One fixed path for every request (ceilings: nginx return 200, Pistache hello).
-- usage: wrk ... -s fixed.lua URL
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
