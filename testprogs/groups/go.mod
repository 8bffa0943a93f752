module gotrace.test/groups

go 1.15
