module gotrace.test/handoff

go 1.15
