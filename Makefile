.PHONY: dev test test-postgres lint bench eval

dev:
	pip install -e '.[test,dev]'

test:
	pytest

test-postgres:
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pytest

lint:
	ruff check .

bench:
	python bench/pipeline.py -n 100000

eval:
	socialdesk eval
