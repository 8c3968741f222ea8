"""Stock in SQL: the tables, repositories, bulk statements, queries, the change feed and the
projection's rebuild."""
