"""Real user-agent strings, as mail apps, browsers, proxies and scanners send them.

Where a string comes from a published observation it says so; browser and mail-app
strings are the formats those apps send (versions frozen at a recent release).
"""

# -- People: browsers and mail apps -----------------------------------------------------

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)
# Apple Mail on macOS with Mail Privacy Protection off: WebKit without a browser token.
APPLE_MAIL_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
# Outlook for Windows renders with Word and downloads images as "ms-office".
OUTLOOK_WINDOWS = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
THUNDERBIRD = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"

# iPhone Mail app (MPP off): the WebKit view's agent, no Safari/Version token.
IPHONE_MAIL = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
# Gmail app for Android showing a non-Gmail account's mail in its WebView ("wv").
ANDROID_GMAIL_APP = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/121.0.6167.178 Mobile Safari/537.36"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
)
SAMSUNG_BROWSER = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 "
    "Chrome/121.0.0.0 Mobile Safari/537.36"
)
# A CUBOT phone: "bot" inside a brand name must not read as a robot.
CUBOT_PHONE = (
    "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/88.0.4324.181 Mobile Safari/537.36"
)
IPAD_MAIL = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
# Galaxy Tab S9: Android without "Mobile" is a tablet.
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

# -- Mail providers' proxies --------------------------------------------------------------

GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
# Gmail's prefetcher (SparkPost, Jan 2022: with the trailing " Mozilla/5.0"; also seen without).
GMAIL_PREFETCH = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/42.0.2311.135 Safari/537.36 Edge/12.246"
)
GMAIL_PREFETCH_SPARKPOST = GMAIL_PREFETCH + " Mozilla/5.0"
APPLE_MPP = "Mozilla/5.0"
# What an Outlook.com user saw fetching a link from 132.245.26.156 (Microsoft) on open (2015).
OUTLOOK_COM_FETCHER = "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0)"

# -- Machines: scanners, previews, libraries ---------------------------------------------

BARRACUDA = "Barracuda Sentinel (EE)"  # Braze documentation; GMass observations
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
FACEBOOK = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
LINKEDIN = "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
TWITTERBOT = "Twitterbot/1.0"
WHATSAPP = "WhatsApp/2.23.20.0 A"
TELEGRAM = "TelegramBot (like TwitterBot)"
DISCORD = "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"
SKYPE_PREVIEW = "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com"
OUTLOOK_DESKTOP_LINK_CHECK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.14931; Pro)"  # GMass
IOS_DATAACCESSD = "iOS/16.5.1 (20F75) dataaccessd/1.0"  # GMass
HEADLESS_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 "
    "Safari/537.36"
)
PYTHON_REQUESTS = "python-requests/2.32.3"
CURL = "curl/8.5.0"
WGET = "Wget/1.21.4"
GO_HTTP = "Go-http-client/1.1"
JAVA = "Java/17.0.2"  # GMass
APACHE_HTTPCLIENT = "Apache-HttpClient/4.5.1 (Java/1.8.0_172)"  # GMass
LIBWWW = "W3C-checklink/4.5 [4.160] libwww-perl/5.823"  # GMass
