-- wrk script of the HPA phase of tests/e2e: GET /data/<key> over 500 keys
-- (cache hits after the first pass), each on a new connection
-- (Connection: close), so kube-proxy spreads the load over every ready pod,
-- including the ones the HPA has just added.
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/data/e2e-hpa-" .. (counter % 500), { ["Connection"] = "close" })
end
