from sqlalchemy import create_engine, text


def test_each_database_is_fresh_and_writable(database_url):
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (v TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO probe (v) VALUES ('Hà Nội')"))
        assert conn.execute(text("SELECT v FROM probe")).scalar_one() == "Hà Nội"
    engine.dispose()
