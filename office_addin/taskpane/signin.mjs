// Signing in and out of the Engagement panel.
import { closeLive } from "./live.mjs";
import { $, Api, onSignedOut, reasonOf, setView, state, t } from "./view.mjs";

export function signedOut(message) {
  closeLive();
  if (Api.token()) Api.signOut();
  state.me = null;
  state.threads = [];
  setView("signin");
  const error = $("signin-error");
  error.textContent = message || "";
  error.hidden = !message;
  $("signin-email").focus();
}

onSignedOut(signedOut);

/** The sign-in form's submit handler; `start` opens the panel once signed in. */
export async function signIn(event, start) {
  event.preventDefault();
  const email = $("signin-email").value.trim();
  const password = $("signin-password").value;
  const error = $("signin-error");
  if (!email || !password) {
    error.textContent = t("pane.signin.missing");
    error.hidden = false;
    return;
  }
  $("signin-submit").disabled = true;
  try {
    const answer = await Api.request("POST", "/auth/signin", {
      email, password, label: state.inOutlook ? "Outlook add-in" : "Web panel",
    }, { token: null });
    await Api.setToken(answer.token);
    Api.rememberMe({ user: answer.user, org: answer.org, settings: answer.settings, public_url: Api.publicUrl() });
    $("signin-password").value = "";
    error.hidden = true;
    await start();
  } catch (failure) {
    const reason = reasonOf(failure); // in the pane's language: "the Engage server cannot be reached."
    error.textContent = failure.status === 401 ? t("pane.signin.wrong")
      : reason.charAt(0).toUpperCase() + reason.slice(1);
    error.hidden = false;
  } finally {
    $("signin-submit").disabled = false;
  }
}
