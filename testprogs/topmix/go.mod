module gotrace.test/topmix

go 1.15
