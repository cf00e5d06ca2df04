// Opens Firestore for the page. Emulator: connect to it, with a mock user token so security
// rules see a signed-in Portal user (custom claim portal: true). Real project: the page relies
// on Firebase Auth's persisted session, which an embedding Portal on the same origin and the
// same Firebase project has already created; optionally it offers Google sign-in by redirect.
import { initializeApp } from "firebase/app";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import { h } from "./dom.js";

export async function openFirestore(config, signInPane) {
  const app = initializeApp(config.firebase);
  if (config.emulator) {
    const db = getFirestore(app);
    const { host, port, mockUserToken } = config.emulator;
    connectFirestoreEmulator(db, host, port, mockUserToken ? { mockUserToken } : {});
    return db;
  }
  // Auth before Firestore, so Firestore's first request already carries the user's token.
  await signedIn(app, config.auth, signInPane);
  return getFirestore(app);
}

async function signedIn(app, authConfig, pane) {
  const { getAuth, onAuthStateChanged, signInWithRedirect, GoogleAuthProvider } = await import(
    "firebase/auth"
  );
  const auth = getAuth(app);
  return new Promise((resolve) => {
    const stop = onAuthStateChanged(auth, (user) => {
      if (user) {
        stop();
        pane.hidden = true;
        resolve(user);
        return;
      }
      pane.hidden = false;
      pane.replaceChildren(
        h("p", {}, "Sign in to the Portal to see the landing zone's sync status."),
        authConfig.googleSignIn
          ? h(
              "button",
              {
                type: "button",
                onclick: () => signInWithRedirect(auth, new GoogleAuthProvider()),
              },
              "Sign in with Google",
            )
          : null,
      );
    });
  });
}
