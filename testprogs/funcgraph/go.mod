module gotrace.test/funcgraph

go 1.18
