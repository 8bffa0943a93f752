module gotrace.test/bench_funcgraph_big

go 1.18
