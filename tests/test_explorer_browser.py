"""The anchor explorer in a real browser: JupyterLab on loopback, a small notebook that shows the explorer, Debian's
Chromium driven by Selenium with Debian's chromedriver. Typing a word must change the rendered heatmap.

`make test` installs chromium, chromium-driver (apt, as root) and selenium (dev requirement); without them this test
skips and says why. WECROMCL_SCREENSHOT=1 also writes the screenshot to docs/explorer.png (the README's picture)."""
import json, os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

CHROMIUM = shutil.which('chromium')
DRIVER = shutil.which('chromedriver')
if not (CHROMIUM and DRIVER):
    pytest.skip("needs Debian's chromium and chromedriver on PATH (as root: apt-get install chromium chromium-driver; "
                "`make test` does it when it runs as root)", allow_module_level=True)
webdriver = pytest.importorskip('selenium.webdriver', reason='needs selenium (a dev requirement: pip install selenium)')
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

REPO = Path(__file__).resolve().parents[1]
SERVER_START_S = 90   # JupyterLab up and answering
RENDER_S = 90         # kernel start, imports, shipped weights and the first maps
CHANGE_S = 60         # the heatmap redrawn after typing
FIND_BOX = 'input[placeholder="any word, e.g. coffee"]'  # the explorer's free-text box
CELLS = ['from wecromcl.explorer import AnchorExplorer\nex = AnchorExplorer(n_synth=2)\nex']


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _notebook(path: Path):
    cell = lambda src: dict(cell_type='code', execution_count=None, id=secrets.token_hex(4), metadata={}, outputs=[],
                            source=src)
    nb = dict(cells=[cell(c) for c in CELLS], nbformat=4, nbformat_minor=5,
              metadata={'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}})
    path.write_text(json.dumps(nb))


def _wait(what: str, timeout: float, f, every: float = 0.5):
    "The first truthy f() within `timeout` seconds; a failure naming `what` otherwise."
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if v := f(): return v
        except Exception: pass  # the page is still being built
        time.sleep(every)
    pytest.fail(f'{what}: not within {timeout} s')


@pytest.fixture
def lab(tmp_path):
    "A JupyterLab server on 127.0.0.1 (random free port, random token) serving tmp_path/nb; its base URL and token."
    root = tmp_path/'nb'; root.mkdir()
    _notebook(root/'explorer.ipynb')
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path/'cfg'), JUPYTER_RUNTIME_DIR=str(tmp_path/'run'),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path/'settings'), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path/'ws'),
               MPLBACKEND='Agg')
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
           '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
           '--LabApp.news_url=', '--allow-root']
    log = open(tmp_path/'lab.log', 'w')
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    try:
        _wait('JupyterLab answering', SERVER_START_S,
              lambda: proc.poll() is None and urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2).status == 200)
        yield url, token
    finally:
        try:  # shut down the kernels with the server
            urllib.request.urlopen(urllib.request.Request(f'{url}/api/shutdown?token={token}', method='POST'), timeout=5)
            proc.wait(15)
        except Exception:
            proc.terminate()
            try: proc.wait(10)
            except subprocess.TimeoutExpired: proc.kill()
        log.close()


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--window-size=1500,1300'):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try: yield driver
    finally: driver.quit()


def _click_menu(driver, menu: str, item: str):
    driver.find_element(By.XPATH, f"//div[contains(@class, 'lm-MenuBar-itemLabel') and text()='{menu}']").click()
    _wait(f'menu item {item!r}', 10, lambda: driver.find_element(
        By.XPATH, f"//div[contains(@class, 'lm-Menu-itemLabel') and text()='{item}']")).click()


def test_typing_a_word_changes_the_heatmap(lab, browser, tmp_path):
    url, token = lab
    t0 = time.monotonic()
    browser.get(f'{url}/lab/tree/explorer.ipynb?token={token}')
    sessions = lambda: json.load(urllib.request.urlopen(f'{url}/api/sessions?token={token}', timeout=5))
    _wait('the notebook open with an idle kernel', RENDER_S, lambda: browser.find_elements(
        By.CSS_SELECTOR, '.jp-Notebook .jp-Cell') and any(s['kernel']['execution_state'] == 'idle' for s in sessions()))
    _click_menu(browser, 'Run', 'Run All Cells')
    heatmap = _wait('the explorer rendered', RENDER_S, lambda: [
        e for e in browser.find_elements(By.CSS_SELECTOR, '.jp-OutputArea img.widget-image')
        if browser.execute_script('return arguments[0].complete && arguments[0].naturalWidth > 0', e)][0])
    before = heatmap.screenshot_as_png
    box = browser.find_element(By.CSS_SELECTOR, FIND_BOX)
    box.send_keys('coffee', Keys.ENTER)  # the box updates on Enter (continuous_update=False)
    after = _wait('the heatmap redrawn after typing', CHANGE_S,
                  lambda: (s := heatmap.screenshot_as_png) != before and s)
    assert after != before
    assert 'coffee' in browser.find_element(By.CSS_SELECTOR, '.jp-OutputArea').text  # the table has the typed word
    widget = browser.find_element(By.CSS_SELECTOR, '.jp-OutputArea .widget-vbox')
    shot = tmp_path/'explorer.png'
    shot.write_bytes(widget.screenshot_as_png)
    if os.environ.get('WECROMCL_SCREENSHOT'):
        (REPO/'docs').mkdir(exist_ok=True)
        shutil.copy(shot, REPO/'docs'/'explorer.png')
    print(f'browser test: {time.monotonic() - t0:.1f} s in the browser; screenshot {shot}')
