module gotrace.test/blockstack

go 1.15
