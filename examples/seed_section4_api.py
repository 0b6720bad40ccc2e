# The seed document's section 4 script ("REST API Implementation (Python code)"), corrected only
# where it is wrong for RouterOS 6.43 and later (and so for statewall's binary API):
#   - `connection.path(...)` does not exist in routeros_api: `get_resource(...)`;
#   - RouterOS 6.43+ logs in with the name and password (`plaintext_login=True`); the library's
#     default is the pre-6.43 challenge, which RouterOS 6.45.1+ and statewall refuse;
#   - `routeros_api.exceptions.RouterOSError` does not exist: `RouterOsApiError`;
#   - `.get_api()` gives the API, which has no `close()`: the pool is kept and disconnected.
# HOST, USERNAME, PASSWORD and API_PORT may also come from the environment (STATEWALL_HOST,
# STATEWALL_USER, STATEWALL_PASSWORD, STATEWALL_API_PORT), so it runs unchanged against a router.
#
#   python3 -m pip install RouterOS-api==0.21.0
#   STATEWALL_HOST=192.168.88.1 STATEWALL_PASSWORD=… python3 examples/seed_section4_api.py
import os

import routeros_api
import routeros_api.exceptions

HOST = os.environ.get('STATEWALL_HOST', 'your_router_ip')  # Replace with your Router IP address
USERNAME = os.environ.get('STATEWALL_USER', 'api_user')      # Replace with your API username
PASSWORD = os.environ.get('STATEWALL_PASSWORD', 'api_password')  # Replace with your API password
API_PORT = int(os.environ.get('STATEWALL_API_PORT', '8729'))  # Default API port (TLS)

pool = None
try:
    pool = routeros_api.RouterOsApiPool(
        HOST,
        username=USERNAME,
        password=PASSWORD,
        port=API_PORT,
        plaintext_login=True,  # RouterOS 6.43+ login: name and password
        use_ssl=True,  # Use TLS for secure connection
        ssl_verify=False  # Disable SSL certificate verification for simplicity (not recommended for production)
    )
    connection = pool.get_api()

    stats = connection.get_resource('/ip/firewall/connection/tracking').get()

    print("Connection Tracking Statistics:")
    for stat_name, stat_value in stats[0].items():
        if stat_name not in ['.id', 'dynamic']: # Exclude internal attributes
            print(f"  {stat_name}: {stat_value}")

except routeros_api.exceptions.RouterOsApiError as e:
    print(f"RouterOS API Error: {e}")
except Exception as e:
    print(f"An error occurred: {e}")
finally:
    if pool is not None:
        pool.disconnect()
