module gotrace.test/inline

go 1.15
