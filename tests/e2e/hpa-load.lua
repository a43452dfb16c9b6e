-- wrk script of the HPA phase of tests/e2e: GET /data/<key> over 50 keys
-- (filled before the load starts, so every request is a cache hit). Requests
-- use keep-alive, but every 20th request of a thread asks for
-- `Connection: close`, so connections are re-opened all the time and
-- kube-proxy spreads them over every ready pod, including the ones the HPA
-- has just added.
local counter = 0
request = function()
  counter = counter + 1
  local headers = {}
  if counter % 20 == 0 then
    headers["Connection"] = "close"
  end
  return wrk.format("GET", "/data/e2e-hpa-" .. (counter % 50), headers)
end
