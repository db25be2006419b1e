//! The web pages over plain HTTP: sign-in by cookie, private servers sending
//! people to sign in, readers seeing no forms, and every page answering.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn private_pages_need_sign_in_and_the_cookie_is_httponly_and_strict() {
    let s = Server::start(false);
    let c = no_redirects();
    let res = c.get(s.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/signin?next=/");
    // A wrong token is refused on the form; the right one sets the cookie.
    let res = sign_in(&c, &s, "rt_wrong", "%2F").await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("not known"));
    let token = s.token("inspector", "reader").await;
    let token = token.as_str();
    let res = sign_in(&c, &s, token, "%2Faudit").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/audit");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // Another site as `next` is not followed.
    let res = sign_in(&c, &s, token, "%2F%2Fevil.example").await;
    assert_eq!(res.headers()["location"], "/");
    // Signed in as a reader: pages answer, and an item page has no forms.
    let pair = cookie.split(';').next().unwrap().to_string();
    let item = "00000000-0000-0000-0000-000000000014";
    let setup = json!({"events": [
        event(PROGRAMME, "ProgrammeRegistered", json!({"name": "P", "authority": "A"}), "2024-09-10"),
        event(item, "ItemRegistered", json!({"programme": PROGRAMME, "kind": "priority", "reference": "4", "title": "Leadership"}), "2024-09-10"),
    ]});
    s.batch(&setup).await;
    let mut csrf = String::new();
    for path in [
        "/",
        "/compare",
        "/trends",
        "/audit",
        &format!("/items/{item}"),
    ] {
        let res = c
            .get(s.url(path))
            .header("Cookie", &pair)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        csrf = csrf_of(&html);
        assert!(html.contains("inspector (reader)"), "{path}");
        assert!(!html.contains("rag-form"), "{path}: a reader sees no forms");
    }
    // A reader posting the form is refused; signing out clears the cookie.
    let res = c
        .post(s.url(&format!("/items/{item}/rag")))
        .header("Cookie", &pair)
        .body("dimension=overall&rag=red&effective=2024-10-01&reason=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Signing out without the page's token is refused (a forged sign-out).
    let res = c
        .post(s.url("/signout"))
        .header("Cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = c
        .post(s.url("/signout"))
        .header("Cookie", &pair)
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        c.get(s.url(&format!("/items/{}", uuid::Uuid::nil())))
            .header("Cookie", &pair)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// After sign-in only a path on this site is followed: `/\evil`, `/%09/evil`,
/// `//evil` and CR/LF in `next` all go to `/`, and none is a 5xx.
#[tokio::test]
async fn sign_in_never_redirects_off_site_or_fails() {
    let s = Server::start(false);
    let c = no_redirects();
    for next in [
        "%2F%5Cevil.example",
        "%2F%09%2Fevil",
        "%2F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "%2Fx%0D%0ASet-Cookie%3A%20a%3Db",
        "%2F%0Aevil",
    ] {
        let res = sign_in(&c, &s, &s.admin, next).await;
        assert_eq!(res.status(), 303, "next={next}");
        assert_eq!(res.headers()["location"], "/", "next={next}");
        let res = c
            .get(s.url(&format!("/signin?next={next}")))
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success(),
            "GET /signin?next={next}: {}",
            res.status()
        );
        assert!(
            !res.text().await.unwrap().contains("evil"),
            "next={next} echoed"
        );
    }
    let res = sign_in(&c, &s, &s.admin, "%2Fcompare%3Ffrom%3D2024-07-09").await;
    assert_eq!(res.headers()["location"], "/compare?from=2024-07-09");
    // A sign-in post without the form's token (another site's form) is refused.
    let res = c
        .post(s.url("/signin"))
        .body(format!("token={}&next=%2F", s.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res
        .headers()
        .get("set-cookie")
        .is_none_or(|v| !v.to_str().unwrap().starts_with("ragtrail_token=rt_")));
}
