"""tests/image borrows the README walkthroughs from tests/integration, whose markers it registers."""


def pytest_configure(config):
    config.addinivalue_line("markers", "walkthrough: a documented end-to-end journey (tests/README.md)")
