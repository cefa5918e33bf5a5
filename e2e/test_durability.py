"""An acknowledged write survives kill -9; the bootstrap account and keys survive restarts."""


def test_account_keys_and_parameters_survive_kill_9(fresh_ingot, unique):
    server = fresh_ingot
    account, key = server.account, server.access_key_id
    server.client("ssm").put_parameter(Name=f"/durable/{unique}", Value="kept", Type="String")
    server.kill9()
    server.start()
    assert (server.account, server.access_key_id) == (account, key)
    assert server.client("sts").get_caller_identity()["Account"] == account
    assert server.client("ssm").get_parameter(Name=f"/durable/{unique}")["Parameter"]["Value"] == "kept"


def test_a_graceful_restart_keeps_the_same_credentials_file(fresh_ingot):
    server = fresh_ingot
    before = open(server.credentials_file).read()
    server.restart()
    assert open(server.credentials_file).read() == before


def test_the_credentials_file_is_private(fresh_ingot):
    import os
    import stat
    mode = stat.S_IMODE(os.stat(fresh_ingot.credentials_file).st_mode)
    assert mode == 0o600
