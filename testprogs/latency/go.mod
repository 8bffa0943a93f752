module gotrace.test/latency

go 1.15
